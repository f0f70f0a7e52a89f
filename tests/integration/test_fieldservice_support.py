"""Shared world for the field-service tests (no tests here): contract, calendar, technician,
price list and a dispatch policy on top of the API tests' two tenants."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from analytics.alerts import service as alerts
from analytics.alerts.models import DeviceRef
from api.service import parse_key
from fieldservice import clock
from servitize.db import Pool
from tests.integration.test_analytics_support import finding
from tests.integration.test_api_support import World

SH = ZoneInfo("Asia/Shanghai")
WO = "/api/v1/service/work-orders"
ROBOT = DeviceRef("acme-r1", "acme", "acme-site", "substation-robot")
TIERS = [
    {"clock": "response", "over_minutes": 0, "amount": 20000},
    {"clock": "response", "over_minutes": 120, "amount": 50000},
    {"clock": "resolution", "over_minutes": 0, "amount": 30000},
    {"clock": "resolution", "over_minutes": 240, "amount": 80000},
]
CONTRACT = {
    "tenant_id": "acme",
    "name": "Robot care",
    "calendar_id": "cn",
    "start_date": "2026-01-01",
    "device_types": ["substation-robot"],
    "priorities": {"p2": {"response": 240, "resolution": 960}},
    "labour_rate": 18550,
    "travel_rate": 12033,
    "visit_price": 35000,
    "included_visits": 0,
    "credit_tiers": TIERS,
}


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    """A June 2026 instant in Shanghai."""
    return datetime(2026, 6, day, hour, minute, tzinfo=SH)


def key_id(w: World, role: str, tenant: str | None) -> str:
    """The id of a seeded key."""
    parsed = parse_key(w.tokens[(role, tenant)])
    assert parsed is not None
    return parsed[0]


async def ok(response: httpx.Response) -> Any:
    """The JSON of a successful response (fails with the problem text otherwise)."""
    assert response.is_success, response.text
    return response.json()


async def setup(c: httpx.AsyncClient, w: World) -> None:
    """Calendar with the 2026 holiday and make-up day, parts, technician, contract, policy."""
    h = w.headers()
    await ok(await c.put("/api/v1/service/calendars/cn", json={"name": "China"}, headers=h))
    year = {"holidays": ["2026-06-19"], "workdays": ["2026-06-28"]}
    await ok(await c.put("/api/v1/service/calendars/cn/years/2026", json=year, headers=h))
    for no, price, text in (("BRG-6204", 8640, "bearing"), ("SEAL-KIT", 4599, "seal kit")):
        part = {"unit_price": price, "description": text}
        await ok(await c.put(f"/api/v1/service/parts/{no}", json=part, headers=h))
    tech = {
        "name": "Li Wei",
        "skills": ["substation-robot"],
        "sites": ["acme-site"],
        "latitude": 31.2,
        "longitude": 121.5,
        "api_key_id": key_id(w, "technician", None),
    }
    await ok(await c.put("/api/v1/service/technicians/li", json=tech, headers=h))
    await ok(await c.post("/api/v1/service/contracts", json=CONTRACT, headers=h))
    policy = {
        "tenant_id": "acme",
        "device_type": "substation-robot",
        "min_severity": "major",
        "priority": "p2",
    }
    await ok(await c.post("/api/v1/service/policies", json=policy, headers=h))


async def raise_alert(pool: Pool, rule: str = "rule:bearing_temp_high") -> None:
    """An alert through the real alert lifecycle (its open hook dispatches), Thursday 16:00."""
    seen = finding(rule, first=sh(18, 15, 59).timestamp())
    done = await alerts.apply_findings(pool, [(ROBOT, seen)], "detector:test")
    assert done == ["opened"]


async def move(c: httpx.AsyncClient, h: dict[str, str], wo: int, **body: Any) -> dict[str, Any]:
    out: dict[str, Any] = await ok(await c.post(f"{WO}/{wo}/transitions", json=body, headers=h))
    return out


async def do_the_work(c: httpx.AsyncClient, w: World, wo: int) -> None:
    """Monday: accepted late, travel, work, a customer pause; Tuesday: parts, work, done."""
    tech = w.headers("technician")
    clock.set_to(sh(22, 14, 30))
    accepted = await move(c, tech, wo, to="accepted")
    assert accepted["response_breach"] == "210.00"
    await move(c, tech, wo, to="en_route")
    clock.set_to(sh(22, 15))
    await move(c, tech, wo, to="in_progress")
    times = [("travel", sh(22, 14, 30), sh(22, 15)), ("work", sh(22, 15), sh(22, 16))]
    clock.set_to(sh(22, 16))
    for kind, start, end in times:
        body = {"kind": kind, "started_at": start.isoformat(), "ended_at": end.isoformat()}
        assert (await c.post(f"{WO}/{wo}/time", json=body, headers=tech)).status_code == 201
    await move(c, tech, wo, to="on_hold", hold="awaiting_customer", reason="site locked")
    clock.set_to(sh(23, 10))
    await move(c, tech, wo, to="in_progress")
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
    done = await move(c, tech, wo, to="completed")
    assert done["resolution_breach"] == "30.00" and done["paused_minutes"] == "180.00"


async def check_invoice(c: httpx.AsyncClient, w: World, number: str) -> None:
    fin = w.headers("finance")
    await ok(await c.post("/api/v1/billing/runs", json={"period": "2026-06"}, headers=fin))
    invoices = (await c.get("/api/v1/billing/invoices?period=2026-06", headers=fin)).json()
    assert [i["tenant_id"] for i in invoices] == ["acme"]
    inv = await ok(await c.get(f"/api/v1/billing/invoices/{invoices[0]['id']}", headers=fin))
    lines = [
        (ln["kind"], ln["amount"], ln["vat_rate"], ln["detail"]["item"]) for ln in inv["lines"]
    ]
    # Money in the API is a decimal string in major units (CNY here); fen in docs/billing.md.
    assert [(k, a, float(v), i) for k, a, v, i in lines] == [
        ("one_off", "1576.75", 0.06, "labour"),
        ("one_off", "60.17", 0.06, "travel"),
        ("one_off", "172.80", 0.13, "part"),
        ("one_off", "45.99", 0.13, "part"),
        ("one_off", "350.00", 0.06, "visit"),
        ("sla_credit", "-500.00", 0.06, "response_credit"),
        ("sla_credit", "-300.00", 0.06, "resolution_credit"),
    ]
    assert all(ln["detail"]["work_order"] == number for ln in inv["lines"])
    assert (inv["subtotal"], inv["vat"], inv["total"]) == ("1405.71", "99.66", "1505.37")
