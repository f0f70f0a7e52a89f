"""Field service through the real API on a real PostgreSQL: an alert opens a work order by
policy, it is assigned, accepted late, worked (time, parts, a customer pause), completed, signed
off, and the June invoice carries its lines and SLA credits to the fen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from analytics.alerts import service as alerts
from fieldservice import clock
from servitize.db import Pool
from tests.integration.test_api_support import World, client, seed
from tests.integration.test_fieldservice_support import (
    WO,
    check_invoice,
    do_the_work,
    key_id,
    move,
    ok,
    raise_alert,
    setup,
    sh,
)

Ctx = tuple[httpx.AsyncClient, World, Pool]


@pytest.fixture
async def world(pool: Pool) -> AsyncIterator[Ctx]:
    seeded = await seed(pool)
    async with client(pool) as c:
        await setup(c, seeded)
        yield c, seeded, pool


async def _only(c: httpx.AsyncClient, w: World) -> dict[str, Any]:
    page = await ok(await c.get(WO, headers=w.headers("operator")))
    items: list[dict[str, Any]] = page["items"]
    assert len(items) == 1
    return items[0]


async def test_alert_to_invoice(world: Ctx) -> None:
    c, w, pool = world
    with clock.frozen_at(sh(18, 16)):
        await raise_alert(pool)
        wo = await _only(c, w)
        assert (wo["source"], wo["state"], wo["priority"]) == ("policy", "new", "p2")
        assert _utc(wo["response_due"]) == sh(22, 11) and _utc(wo["resolution_due"]) == sh(23, 14)
        await raise_alert(pool, "rule:motor_temp_high")  # same device: attaches
        op = w.headers("operator")
        clock.set_to(sh(22, 9))
        await move(c, op, wo["id"], to="qualified")
        await move(c, op, wo["id"], to="assigned", technician_id="li")
        await do_the_work(c, w, wo["id"])
        got = await ok(await c.get(f"{WO}/{wo['id']}", headers=w.headers("customer", "acme")))
        assert len(got["alert_ids"]) == 2
        await _check_audit(got, w)
        await _check_alerts_resolved(pool, got["alert_ids"])
        sign = await c.post(
            f"{WO}/{wo['id']}/sign-off",
            json={"name": "Zhang San"},
            headers=w.headers("customer", "acme"),
        )
        assert sign.status_code == 200, sign.text
        again = await c.post(
            f"{WO}/{wo['id']}/sign-off",
            json={"name": "Zhang San"},
            headers=w.headers("customer", "acme"),
        )
        assert again.status_code == 409
        await _check_reports(c, w, wo["id"], wo["number"])
    await check_invoice(c, w, wo["number"])


async def _check_reports(c: httpx.AsyncClient, w: World, wo: int, number: str) -> None:
    h = w.headers("customer", "acme")
    pdf = await c.get(f"{WO}/{wo}/report.pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    month = await ok(await c.get("/api/v1/service/reports/acme/2026-06", headers=h))
    assert month["alerts"] == {"major": 2}
    s = month["work_orders"]
    assert (s["created"], s["completed"], s["open"]) == (1, 1, 0)
    assert s["mtta_minutes"] == 5670  # Thu 16:00 -> Mon 14:30, wall clock
    assert s["mttr_minutes"] == 7290  # Thu 16:00 -> Tue 17:30
    assert (s["response_compliance"], s["resolution_compliance"]) == (0, 0)
    assert [o["number"] for o in month["orders"]] == [number]
    other = await c.get("/api/v1/service/reports/globex/2026-06", headers=h)
    assert other.status_code == 404
    monthly_pdf = await c.get("/api/v1/service/reports/acme/2026-06/pdf", headers=h)
    assert monthly_pdf.content.startswith(b"%PDF")


def _utc(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


async def _check_audit(got: dict[str, Any], w: World) -> None:
    moves = [
        (e["from_state"], e["to_state"], e["actor"], _utc(e["at"]))
        for e in got["events"]
        if e["action"] in ("created", "transition")
    ]
    op, tech = f"key:{key_id(w, 'operator', None)}", f"key:{key_id(w, 'technician', None)}"
    assert moves == [
        (None, "new", "fieldservice:dispatch", sh(18, 16)),
        ("new", "qualified", op, sh(22, 9)),
        ("qualified", "assigned", op, sh(22, 9)),
        ("assigned", "accepted", tech, sh(22, 14, 30)),
        ("accepted", "en_route", tech, sh(22, 14, 30)),
        ("en_route", "in_progress", tech, sh(22, 15)),
        ("in_progress", "on_hold", tech, sh(22, 16)),
        ("on_hold", "in_progress", tech, sh(23, 10)),
        ("in_progress", "completed", tech, sh(23, 17, 30)),
    ]
    hold = next(e for e in got["events"] if e["to_state"] == "on_hold")
    assert hold["detail"] == {"reason": "site locked", "hold": "awaiting_customer"}
    actions = [e["action"] for e in got["events"]]
    assert actions.count("alert_attached") == 2 and actions.count("part_added") == 2
    clocks = {s["clock"]: s for s in got["sla"]}
    assert clocks["response"]["breach_minutes"] == 210
    assert clocks["resolution"]["breach_minutes"] == 30


async def _check_alerts_resolved(pool: Pool, ids: list[int]) -> None:
    for alert_id in ids:
        detail = await alerts.detail(pool, alert_id, None)
        assert detail["close_reason"] == "resolved"
