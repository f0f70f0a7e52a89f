"""Field service through the real API on a real PostgreSQL: an alert opens a work order by
policy, it is assigned, accepted late, worked (time, parts, a customer pause), completed, signed
off, and the June invoice carries its lines and SLA credits to the fen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from analytics import service as alerts
from fieldservice import clock
from servitize.db import Pool
from tests.integration.test_api_support import World, client, seed
from tests.integration.test_fieldservice_support import key_id, ok, raise_alert, setup, sh

Ctx = tuple[httpx.AsyncClient, World, Pool]
WO = "/api/v1/service/work-orders"


@pytest.fixture
async def world(pool: Pool) -> AsyncIterator[Ctx]:
    seeded = await seed(pool)
    async with client(pool) as c:
        await setup(c, seeded)
        yield c, seeded, pool


async def _move(c: httpx.AsyncClient, h: dict[str, str], wo: int, **body: Any) -> dict[str, Any]:
    out: dict[str, Any] = await ok(await c.post(f"{WO}/{wo}/transitions", json=body, headers=h))
    return out


async def _only(c: httpx.AsyncClient, w: World) -> dict[str, Any]:
    page = await ok(await c.get(WO, headers=w.headers("operator")))
    items: list[dict[str, Any]] = page["items"]
    assert len(items) == 1
    return items[0]


async def _work(c: httpx.AsyncClient, w: World, wo: int) -> None:
    """Monday: accepted late, travel, work, a customer pause; Tuesday: parts, work, done."""
    tech = w.headers("technician")
    clock.set_to(sh(22, 14, 30))
    accepted = await _move(c, tech, wo, to="accepted")
    assert accepted["response_breach"] == "210.00"
    await _move(c, tech, wo, to="en_route")
    clock.set_to(sh(22, 15))
    await _move(c, tech, wo, to="in_progress")
    times = [("travel", sh(22, 14, 30), sh(22, 15)), ("work", sh(22, 15), sh(22, 16))]
    clock.set_to(sh(22, 16))
    for kind, start, end in times:
        body = {"kind": kind, "started_at": start.isoformat(), "ended_at": end.isoformat()}
        assert (await c.post(f"{WO}/{wo}/time", json=body, headers=tech)).status_code == 201
    await _move(c, tech, wo, to="on_hold", hold="awaiting_customer", reason="site locked")
    clock.set_to(sh(23, 10))
    await _move(c, tech, wo, to="in_progress")
    for part, qty in (("BRG-6204", "2"), ("SEAL-KIT", "1")):
        body = {"part_no": part, "quantity": qty}
        assert (await c.post(f"{WO}/{wo}/parts", json=body, headers=tech)).status_code == 201
    clock.set_to(sh(23, 17, 30))
    body = {
        "kind": "work",
        "started_at": sh(23, 10).isoformat(),
        "ended_at": sh(23, 17, 30).isoformat(),
    }
    assert (await c.post(f"{WO}/{wo}/time", json=body, headers=tech)).status_code == 201
    done = await _move(c, tech, wo, to="completed")
    assert done["resolution_breach"] == "30.00" and done["paused_minutes"] == "180.00"


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
        await _move(c, op, wo["id"], to="qualified")
        await _move(c, op, wo["id"], to="assigned", technician_id="li")
        await _work(c, w, wo["id"])
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
    await _check_invoice(c, w, wo["number"])


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


async def _check_invoice(c: httpx.AsyncClient, w: World, number: str) -> None:
    fin = w.headers("finance")
    await ok(await c.post("/api/v1/billing/runs", json={"period": "2026-06"}, headers=fin))
    invoices = (await c.get("/api/v1/billing/invoices?period=2026-06", headers=fin)).json()
    assert [i["tenant_id"] for i in invoices] == ["acme"]
    inv = await ok(await c.get(f"/api/v1/billing/invoices/{invoices[0]['id']}", headers=fin))
    lines = [
        (ln["kind"], ln["amount"], ln["vat_rate"], ln["detail"]["item"]) for ln in inv["lines"]
    ]
    assert [(k, a, float(v), i) for k, a, v, i in lines] == [
        ("one_off", 157675, 0.06, "labour"),
        ("one_off", 6017, 0.06, "travel"),
        ("one_off", 17280, 0.13, "part"),
        ("one_off", 4599, 0.13, "part"),
        ("one_off", 35000, 0.06, "visit"),
        ("sla_credit", -50000, 0.06, "response_credit"),
        ("sla_credit", -30000, 0.06, "resolution_credit"),
    ]
    assert all(ln["detail"]["work_order"] == number for ln in inv["lines"])
    assert (inv["subtotal"], inv["vat"], inv["total"]) == (140571, 9966, 150537)
