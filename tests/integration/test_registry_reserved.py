"""Service account names are reserved: no device takes one, no auth file holds one twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from registry import service as registry
from registry.credentials import hash_password
from registry.models import Device, ReservedNameError, Tenant, is_reserved
from servitize.db import Pool
from tests.integration.test_api_support import client, seed


@pytest.mark.parametrize("name", ["ingest", "Ingest", "ingest-2", "detect", "servitize-x", "api"])
def test_reserved_names(name: str) -> None:
    assert is_reserved(name)


@pytest.mark.parametrize("name", ["ingestor-7", "pump-ingest", "robot-api", "apiary"])
def test_ordinary_device_names(name: str) -> None:
    assert not is_reserved(name)


async def test_registry_and_api_refuse_a_reserved_device_id(pool: Pool) -> None:
    w = await seed(pool)
    with pytest.raises(ReservedNameError, match="reserved for Servitize service accounts"):
        await registry.register_devices(pool, [Device("ingest", "pump-motor", "acme")])
    body = {"id": "ingest", "device_type_id": "pump-motor", "tenant_id": "acme"}
    async with client(pool) as c:
        for headers in (w.headers(), w.headers("admin", "acme")):
            answer = await c.post("/api/v1/devices", json=body, headers=headers)
            assert answer.status_code == 409, answer.text
            assert "reserved for Servitize service accounts" in answer.json()["detail"]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM devices WHERE id = 'ingest'") == 0


async def test_auth_files_refuse_a_service_user_a_device_holds(pool: Pool) -> None:
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(pool, Tenant("acme", "Acme"))
    await registry.register_devices(pool, [Device("pump-a", "pump-motor", "acme")])
    async with pool.acquire() as conn:  # a device from before names were reserved
        await conn.execute(
            "INSERT INTO devices (id, device_type_id, tenant_id, credential_hash)"
            " VALUES ('ingest', 'pump-motor', 'acme', $1)",
            hash_password("tenant-chosen"),
        )
    with pytest.raises(ValueError, match="collides with a registered device"):
        await registry.mosquitto_auth_files(pool, {"ingest": hash_password("s")})
    with pytest.raises(ValueError, match="not a reserved name"):
        await registry.mosquitto_auth_files(pool, {"pump-b": hash_password("s")})
    passwd, acl = await registry.mosquitto_auth_files(pool, {"ingest-2": hash_password("s")})
    users = [line.split(":")[0] for line in passwd.splitlines()]
    assert sorted(users) == ["ingest", "ingest-2", "pump-a"] and len(set(users)) == len(users)
    assert "user ingest-2\ntopic read devices/+/telemetry" in acl
    assert "topic write devices/#" not in acl


def _servitize(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servitize.cli", "registry", *args],
        env=dict(os.environ, SERVITIZE_DATABASE_URL=db_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_cli_refuses_reserved_devices_and_colliding_service_users(
    pool: Pool, db_url: str, tmp_path: Path
) -> None:
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(pool, Tenant("acme", "Acme"))
    added = _servitize(db_url, "add-device", "ingest", "--type", "pump-motor", "--tenant", "acme")
    assert added.returncode == 2
    assert added.stderr.count("\n") == 1 and "reserved" in added.stderr
    out = tmp_path / "auth"
    twice = _servitize(
        db_url,
        "mosquitto-auth",
        "--out",
        str(out),
        "--service-user",
        "ingest:a",
        "--service-user",
        "ingest:b",
    )
    assert twice.returncode == 2 and "given twice" in twice.stderr
    tenantish = _servitize(db_url, "mosquitto-auth", "--out", str(out), "--service-user", "bob:a")
    assert tenantish.returncode == 2 and "not a reserved name" in tenantish.stderr
    assert not out.exists()
