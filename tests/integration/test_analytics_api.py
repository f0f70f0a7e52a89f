"""Alert API through the real app: scoping, roles, lifecycle actions, SSE resume."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from analytics.alerts import service
from analytics.alerts.models import DeviceRef
from api.app import create_app
from servitize.db import Pool
from servitize.infra import free_port
from servitize.settings import Settings
from tests.integration.test_analytics_support import finding
from tests.integration.test_api_support import World, client, seed

ACME = DeviceRef("acme-r1", "acme", "acme-site", "substation-robot")
GLOBEX = DeviceRef("globex-r1", "globex", "globex-site", "substation-robot")


@pytest.fixture
async def world(pool: Pool) -> World:
    w = await seed(pool)
    await service.apply_findings(pool, [(ACME, finding()), (GLOBEX, finding())], "detector:0/1")
    return w


async def _ids(c: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, int]:
    r = await c.get("/api/v1/alerts", headers=headers)
    assert r.status_code == 200
    return {a["tenant_id"]: a["id"] for a in r.json()["items"]}


async def test_scoping_and_roles(pool: Pool, world: World) -> None:
    async with client(pool) as c:
        everyone = await _ids(c, world.headers("viewer"))
        assert set(everyone) == {"acme", "globex"}
        assert set(await _ids(c, world.headers("viewer", "acme"))) == {"acme"}
        other = everyone["globex"]
        r = await c.get(f"/api/v1/alerts/{other}", headers=world.headers("operator", "acme"))
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem")
        r = await c.post(f"/api/v1/alerts/{other}/ack", headers=world.headers("operator", "acme"))
        assert r.status_code == 404
        mine = everyone["acme"]
        r = await c.post(f"/api/v1/alerts/{mine}/ack", headers=world.headers("viewer", "acme"))
        assert r.status_code == 403


async def test_ack_comment_resolve_and_audit(pool: Pool, world: World) -> None:
    op = world.headers("operator", "acme")
    async with client(pool) as c:
        aid = (await _ids(c, op))["acme"]
        r = await c.post(f"/api/v1/alerts/{aid}/ack", headers=op)
        assert r.status_code == 200 and r.json()["state"] == "active_acknowledged"
        assert (await c.post(f"/api/v1/alerts/{aid}/ack", headers=op)).status_code == 409
        r = await c.post(f"/api/v1/alerts/{aid}/comments", headers=op, json={"body": "on site"})
        assert r.status_code == 201
        r = await c.post(f"/api/v1/alerts/{aid}/resolve", headers=op, json={"note": "fixed"})
        assert r.json()["state"] == "closed"
        detail = (await c.get(f"/api/v1/alerts/{aid}", headers=op)).json()
        assert [e["action"] for e in detail["events"]] == [
            *("opened", "acknowledged", "commented", "resolved")
        ]
        assert detail["comments"][0]["body"] == "on site"
        closed = await c.get("/api/v1/alerts", params={"state": "closed"}, headers=op)
        assert [a["id"] for a in closed.json()["items"]] == [aid]
        bad = await c.get("/api/v1/alerts", params={"state": "sideways"}, headers=op)
        assert bad.status_code == 422


async def test_maintenance_and_webhook_settings(pool: Pool, world: World) -> None:
    op = world.headers("operator", "acme")
    async with client(pool) as c:
        body = {
            "starts_at": "2026-01-01T00:00:00Z",
            "ends_at": "2026-01-02T00:00:00Z",
            "device_id": "acme-r1",
            "reason": "overhaul",
        }
        r = await c.post("/api/v1/maintenance-windows", headers=op, json=body)
        assert r.status_code == 201 and r.json()["tenant_id"] == "acme"
        wid = r.json()["id"]
        foreign = {**body, "device_id": "globex-r1"}
        assert (
            await c.post("/api/v1/maintenance-windows", headers=op, json=foreign)
        ).status_code == 404
        listed = await c.get("/api/v1/maintenance-windows", headers=world.headers("viewer", "acme"))
        assert [w["id"] for w in listed.json()] == [wid]
        assert (await c.delete(f"/api/v1/maintenance-windows/{wid}", headers=op)).status_code == 204
        hook = {"url": "https://hooks.example.test/x", "secret": "0123456789abcdef-secret"}
        r = await c.put("/api/v1/tenants/acme/webhook", headers=op, json=hook)
        assert r.status_code == 200 and r.json()["secret"] == "0123…"
        assert (await c.get("/api/v1/tenants/globex/webhook", headers=op)).status_code == 404


@pytest.fixture
async def server(pool: Pool) -> AsyncIterator[str]:
    port = free_port()
    app = create_app(pool, Settings(mqtt_url=None))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(srv.serve())
    while not srv.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    await task


async def _first_events(url: str, headers: dict[str, str], n: int) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=10) as c, c.stream("GET", url, headers=headers) as r:
        async for line in r.aiter_lines():
            if not line.strip():
                if current:
                    events.append(current)
                    current = {}
                if len(events) == n:
                    break
                continue
            key, _, value = line.partition(":")
            current[key] = value.strip()
    return events


async def test_stream_resumes_from_last_event_id(pool: Pool, world: World, server: str) -> None:
    url = f"{server}/api/v1/alerts/stream"
    acme = world.headers("viewer", "acme")
    first = await asyncio.wait_for(_first_events(url, acme, 1), 10)
    assert first[0]["event"] == "opened" and json.loads(first[0]["data"])["tenant_id"] == "acme"
    later = finding("rule:other", first=1_780_000_100.0)
    reader = asyncio.create_task(_first_events(url, {**acme, "Last-Event-ID": first[0]["id"]}, 1))
    await asyncio.sleep(0.3)
    await service.apply_findings(pool, [(GLOBEX, later), (ACME, later)], "detector:0/1")
    resumed = await asyncio.wait_for(reader, 10)
    assert int(resumed[0]["id"]) > int(first[0]["id"])
    assert json.loads(resumed[0]["data"])["tenant_id"] == "acme"


async def test_bodies_refuse_unknown_fields_and_times_without_offset(
    pool: Pool, world: World
) -> None:
    op = world.headers("operator", "acme")
    window = {"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-01-02T00:00:00Z"}
    hook = {"url": "https://93.184.215.14/x", "secret": "0123456789abcdef-secret"}
    async with client(pool) as c:
        aid = (await _ids(c, op))["acme"]
        bad = [
            ("POST", "/api/v1/maintenance-windows", {**window, "devcie_id": "acme-r1"}),
            ("POST", "/api/v1/maintenance-windows", {**window, "starts_at": "2026-01-01T00:00"}),
            ("PUT", "/api/v1/tenants/acme/webhook", {**hook, "enabeld": False}),
            ("POST", f"/api/v1/alerts/{aid}/comments", {"body": "x", "author": "me"}),
            ("POST", f"/api/v1/alerts/{aid}/resolve", {"note": "x", "force": True}),
        ]
        for method, path, body in bad:
            r = await c.request(method, path, headers=op, json=body)
            assert r.status_code == 422, (path, body, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        naive = await c.get("/api/v1/alerts", params={"since": "2026-01-01T00:00"}, headers=op)
        assert naive.status_code == 422
        ok = await c.get("/api/v1/alerts", params={"since": "2026-01-01T00:00Z"}, headers=op)
        assert ok.status_code == 200
        assert (await c.put("/api/v1/tenants/acme/webhook", headers=op, json=hook)).is_success


async def test_webhook_to_loopback_is_refused_unless_allow_listed(pool: Pool, world: World) -> None:
    op = world.headers("operator", "acme")
    hook = {"url": "http://127.0.0.1:8000/internal/x", "secret": "0123456789abcdef-secret"}
    async with client(pool) as c:
        r = await c.put("/api/v1/tenants/acme/webhook", headers=op, json=hook)
        assert r.status_code == 422 and "127.0.0.1" in r.json()["detail"]
    async with client(pool, Settings(mqtt_url=None, webhook_allow="127.0.0.0/8")) as c:
        assert (await c.put("/api/v1/tenants/acme/webhook", headers=op, json=hook)).is_success


@pytest.mark.parametrize("header", ["99999999999999999999999", "abc", "1e5", "9" * 5000])
async def test_stream_with_bad_last_event_id_answers_400(
    pool: Pool, world: World, server: str, header: str
) -> None:
    headers = {**world.headers("viewer", "acme"), "Last-Event-ID": header}
    async with httpx.AsyncClient(timeout=10) as c:
        r = await c.get(f"{server}/api/v1/alerts/stream", headers=headers)
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("application/problem+json")
        big = await c.get(
            f"{server}/api/v1/alerts/stream", params={"after": 2**64}, headers=headers
        )
        assert big.status_code in (400, 422)
