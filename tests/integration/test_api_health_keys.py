"""Health, readiness, Prometheus metrics, API keys (HTTP and CLI) and the body size limit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from api import service
from api.app import MAX_BODY_BYTES
from servitize.db import Pool
from servitize.infra import free_port, wait_for_port
from servitize.settings import Settings
from tests.integration.test_api_support import client, seed

ROOT = Path(__file__).resolve().parents[2]


async def test_ready_reports_database_storage_and_broker(pool: Pool, broker_url: str) -> None:
    async with client(pool, Settings(mqtt_url=broker_url)) as c:
        up = (await c.get("/api/v1/health/ready")).json()
    dead = f"mqtt://127.0.0.1:{free_port()}"
    async with client(pool, Settings(mqtt_url=dead)) as c:
        down = await c.get("/api/v1/health/ready")
        live = await c.get("/api/v1/health/live")
    assert (up["status"], up["storage_path"], up["broker"]["ok"]) == ("ok", "postgresql", True)
    assert up["database"]["ok"] and "schema" in up["database"]["detail"]
    assert (down.status_code, down.json()["status"], down.json()["broker"]["ok"]) == (
        200,
        "degraded",
        False,
    )
    assert live.json() == {"status": "ok"}


async def test_ready_is_503_when_the_database_is_gone(pool: Pool) -> None:
    async with client(pool) as c:
        await pool.close()
        response = await c.get("/api/v1/health/ready")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False


async def test_metrics_expose_ingest_counters_by_reason(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO ingest_counters (instance, name, value) VALUES
               ('a', 'accepted', 10), ('b', 'accepted', 5), ('a', 'rejected_bad_json', 2),
               ('b', 'rejected_unknown_device', 3), ('a', 'batches', 4)"""
        )
    async with client(pool) as c:
        await c.get("/api/v1/health/live")
        text = (await c.get("/metrics")).text
    assert 'servitize_ingest_total{name="accepted"} 15.0' in text
    assert 'servitize_ingest_total{name="batches"} 4.0' in text
    assert 'servitize_ingest_rejected_total{reason="bad_json"} 2.0' in text
    assert 'servitize_ingest_rejected_total{reason="unknown_device"} 3.0' in text
    assert 'route="/api/v1/health/live",status="200"' in text


async def test_keys_are_hashed_revocable_and_record_use(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        made = await c.post(
            "/api/v1/keys", json={"role": "finance", "name": "books"}, headers=w.headers()
        )
        token = made.json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        assert (await c.get("/api/v1/tenants", headers=h)).status_code == 200
        async with pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM api_keys WHERE id = $1", made.json()["id"])
        assert row is not None and row["last_used_at"] is not None
        assert token.encode() not in bytes(row["secret_hash"])
        listed = (await c.get("/api/v1/keys", headers=w.headers())).json()
        assert "token" not in next(k for k in listed if k["id"] == made.json()["id"])
        assert (
            await c.delete(f"/api/v1/keys/{made.json()['id']}", headers=w.headers())
        ).status_code == 204
        assert (
            await c.delete(f"/api/v1/keys/{made.json()['id']}", headers=w.headers())
        ).status_code == 404
        revoked = await c.get("/api/v1/tenants", headers=h)
        forged = await c.get("/api/v1/tenants", headers={"Authorization": token[:-4] + "AAAA"})
        missing = await c.get("/api/v1/tenants")
    assert revoked.status_code == forged.status_code == missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"


async def test_unknown_tenant_key_and_wrong_role_rejected(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        ghost = await c.post(
            "/api/v1/keys", json={"role": "viewer", "tenant_id": "ghost"}, headers=w.headers()
        )
        by_operator = await c.get("/api/v1/keys", headers=w.headers("operator"))
    assert ghost.status_code == 422
    assert by_operator.status_code == 403


async def test_bodies_over_the_limit_get_413(pool: Pool) -> None:
    w = await seed(pool)
    big = b'{"id": "x", "name": "' + b"a" * MAX_BODY_BYTES + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    async with client(pool) as c:
        declared = await c.post("/api/v1/tenants", content=big, headers=w.headers())
        streamed = await c.post("/api/v1/tenants", content=chunks(), headers=w.headers())
        small = await c.post(
            "/api/v1/tenants", json={"id": "ok", "name": "OK"}, headers=w.headers()
        )
    assert declared.status_code == streamed.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"
    assert small.status_code == 201


async def test_service_authenticates_only_well_formed_keys(pool: Pool) -> None:
    key, token = await service.create_key(pool, "viewer")
    assert await service.authenticate(pool, token) is not None
    for bad in ("", "svz_", f"svz_{key.id}_", "Bearer " + token, token.replace("svz", "xyz")):
        assert await service.authenticate(pool, bad) is None


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SERVITIZE_DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "servitize.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


async def test_keys_cli_create_list_revoke(db_url: str) -> None:
    created = await asyncio.to_thread(
        _cli, db_url, "keys", "create", "--role", "admin", "--name", "ops"
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    key_id = token.split("_")[1]
    listed = await asyncio.to_thread(_cli, db_url, "keys", "list")
    assert key_id in listed.stdout and token.split("_", 2)[2] not in listed.stdout
    revoked = await asyncio.to_thread(_cli, db_url, "keys", "revoke", key_id)
    again = await asyncio.to_thread(_cli, db_url, "keys", "revoke", key_id)
    assert (revoked.returncode, again.returncode) == (0, 1)
    assert "revoked" in (await asyncio.to_thread(_cli, db_url, "keys", "list")).stdout


async def test_api_refuses_an_unmigrated_database(pg_server: str) -> None:
    from tests import services

    url = await services.create_database(pg_server)
    try:
        result = await asyncio.to_thread(_cli, url, "api", "--port", str(free_port()))
    finally:
        await services.drop_database(pg_server, url)
    assert result.returncode == 2
    assert "servitize migrate" in result.stderr


async def test_servitize_api_serves_on_a_migrated_database(db_url: str) -> None:
    port = free_port()
    env = os.environ | {"SERVITIZE_DATABASE_URL": db_url, "SERVITIZE_MQTT_URL": ""}
    args = ["-m", "servitize.cli", "api", "--port", str(port), "--no-access-log"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", port, 30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            ready = (await c.get("/api/v1/health/ready")).json()
            unauthorized = await c.get("/api/v1/devices")
    finally:
        proc.terminate()
        _, stderr = await asyncio.wait_for(proc.communicate(), 10)
    assert ready["database"]["ok"] and ready["storage_path"] == "postgresql"
    assert unauthorized.status_code == 401
    assert b"storage path: postgresql" in stderr
