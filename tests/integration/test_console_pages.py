"""Console pages through a real server: every page renders with the seeded world, a tenant
user sees only its tenant, actions reach the audit trail by the person's name, downloads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from servitize.db import Pool
from tests.integration.console_support import console_server, login, page_csrf, seed_console
from tests.integration.test_api_isolation import seed_billing
from tests.integration.test_api_support import add_readings, client

Ctx = tuple[str, dict[str, str], Pool]


@pytest.fixture
async def world(pool: Pool) -> AsyncIterator[Ctx]:
    w = await seed_console(pool)
    start = datetime.now(UTC) - timedelta(minutes=50)
    await add_readings(pool, "acme-r1", "motor_temp_c", start, [40.0, 41.0, 42.5], step_s=600)
    async with client(pool) as c:
        invoices = await seed_billing(c, w)
    async with console_server(pool) as url:
        yield url, invoices, pool


@asynccontextmanager
async def _as(url: str, user: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url) as c:
        assert (await login(c, user)).status_code == 303
        yield c


async def test_every_page_renders_for_the_provider_admin(world: Ctx) -> None:
    url, invoices, pool = world
    alert_id = await pool.fetchval("SELECT id FROM alerts WHERE tenant_id = 'acme'")
    async with _as(url, "root") as c:
        for path, must in [
            ("/console/fleet", "acme-r1"), ("/console/alerts", "globex-r1"),
            (f"/console/alerts/{alert_id}", "审计记录"),
            ("/console/devices/acme-r1", "motor_temp_c"),
            ("/console/finance", "PDF"), ("/console/users", "op.globex"),
        ]:  # fmt: skip
            r = await c.get(path)
            assert r.status_code == 200 and must in r.text, path
        r = await c.get(f"/console/finance/invoices/{invoices['acme']}.pdf")
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        r = await c.get("/console/finance/periods/2026-01.csv")
        assert r.status_code == 200 and "acme" in r.text and "globex" in r.text


async def test_english_is_a_switch_away(world: Ctx) -> None:
    url, _, _ = world
    async with _as(url, "op.acme") as c:
        assert "告警" in (await c.get("/console/alerts")).text
        r = await c.get("/console/lang/en?next=/console/alerts")
        assert r.status_code == 303 and r.headers["location"] == "/console/alerts"
        assert "Alerts" in (await c.get("/console/alerts")).text
        evil = await c.get("/console/lang/en?next=https://evil.example/")
        assert evil.headers["location"] == "/console/"


async def test_a_tenant_user_sees_only_its_tenant(world: Ctx) -> None:
    url, invoices, pool = world
    theirs = await pool.fetchval("SELECT id FROM alerts WHERE tenant_id = 'globex'")
    async with _as(url, "op.acme") as c:
        listing = (await c.get("/console/alerts")).text
        assert "acme-r1" in listing and "globex-r1" not in listing
        fleet = (await c.get("/console/fleet")).text
        assert "acme-r1" in fleet and "globex" not in fleet
        for path in (f"/console/alerts/{theirs}", "/console/devices/globex-r1",
                     "/console/devices/globex-r1/series?metric=motor_temp_c&range=1d"):  # fmt: skip
            assert (await c.get(path)).status_code == 404, path
        csrf = await page_csrf(c)
        r = await c.post(f"/console/alerts/{theirs}/ack", data={"csrf": csrf})
        assert r.status_code == 404
        assert (await c.get("/console/finance")).status_code == 403  # an operator
    async with _as(url, "fin.acme") as c:
        page = (await c.get("/console/finance")).text
        assert f"/invoices/{invoices['acme']}.pdf" in page
        assert f"/invoices/{invoices['globex']}.pdf" not in page
        assert (
            await c.get(f"/console/finance/invoices/{invoices['globex']}.pdf")
        ).status_code == 404
        csv = (await c.get("/console/finance/periods/2026-01.csv")).text
        assert "acme" in csv and "globex" not in csv


async def test_actions_are_audited_under_the_persons_name(world: Ctx) -> None:
    url, _, pool = world
    alert_id = await pool.fetchval("SELECT id FROM alerts WHERE tenant_id = 'acme'")
    async with _as(url, "op.acme") as c:
        base = f"/console/alerts/{alert_id}"
        for action, form in [("comment", {"body": "checked the gearbox"}), ("ack", {}),
                             ("resolve", {"note": "replaced"})]:  # fmt: skip
            r = await c.post(f"{base}/{action}", data=form | {"csrf": await page_csrf(c, base)})
            assert r.status_code == 303, (action, r.text)
        page = (await c.get(base)).text
        assert page.count("user:op.acme") >= 3 and "checked the gearbox" in page
        r = await c.post(f"{base}/ack", data={"csrf": await page_csrf(c, base)})
        assert r.status_code == 409


async def test_device_series_come_from_the_rollups(world: Ctx) -> None:
    url, _, _ = world
    async with _as(url, "op.acme") as c:
        r = await c.get("/console/devices/acme-r1/series?metric=motor_temp_c&range=1h")
        data = r.json()["series"]
        assert r.status_code == 200 and len(data["t"]) == len(data["avg"]) >= 1
        assert max(v for v in data["max"] if v is not None) == 42.5
        assert (await c.get("/console/devices/acme-r1/series?metric=x&range=7y")).status_code == 404


async def test_the_live_list_streams_alert_changes(world: Ctx) -> None:
    url, _, pool = world
    alert_id = await pool.fetchval("SELECT id FROM alerts WHERE tenant_id = 'acme'")
    async with _as(url, "op.acme") as c:
        async with c.stream("GET", "/console/events?after=0", timeout=10) as stream:
            lines = []
            async for line in stream.aiter_lines():
                lines.append(line)
                if line.startswith("data:"):
                    break
        assert any(line == "event: opened" for line in lines)
        data = json.loads(lines[-1].removeprefix("data:"))
        assert data["alert_id"] == alert_id and data["tenant_id"] == "acme"
        assert (data["device_id"], data["site_id"], data["severity"]) == (
            "acme-r1",
            "acme-site",
            "major",
        )
        assert datetime.fromisoformat(data["at"]).tzinfo is not None and "T" in data["at"]
