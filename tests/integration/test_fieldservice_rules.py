"""Field-service rules through the real API: bad input gets a clear 4xx, tenants are isolated,
a technician sees and updates only its assigned work orders, customers request and follow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from fieldservice import clock
from servitize.db import Pool
from tests.integration.test_api_support import World, client, seed
from tests.integration.test_fieldservice_support import CONTRACT, key_id, ok, raise_alert, setup, sh

Ctx = tuple[httpx.AsyncClient, World, Pool]
WO = "/api/v1/service/work-orders"


@pytest.fixture
async def world(pool: Pool) -> AsyncIterator[Ctx]:
    seeded = await seed(pool)
    with clock.frozen_at(sh(22, 9)):
        async with client(pool) as c:
            await setup(c, seeded)
            yield c, seeded, pool


async def _manual(c: httpx.AsyncClient, w: World, tenant: str, **extra: Any) -> dict[str, Any]:
    body = {
        "tenant_id": tenant,
        "title": f"Check {tenant}",
        "priority": "p2",
        "device_id": f"{tenant}-r1",
        **extra,
    }
    out: dict[str, Any] = await ok(await c.post(WO, json=body, headers=w.headers("operator")))
    return out


async def _status(c: httpx.AsyncClient, h: dict[str, str], path: str, body: Any) -> int:
    return (await c.post(f"{WO}/{path}", json=body, headers=h)).status_code


async def _in_progress(c: httpx.AsyncClient, w: World, wo: int) -> None:
    op = w.headers("operator")
    for body in (
        {"to": "qualified"},
        {"to": "assigned", "technician_id": "li"},
        {"to": "accepted"},
        {"to": "in_progress"},
    ):
        await ok(await c.post(f"{WO}/{wo}/transitions", json=body, headers=op))


async def test_bad_input_gets_a_clear_4xx_and_changes_nothing(world: Ctx) -> None:
    c, w, _ = world
    wo = (await _manual(c, w, "acme"))["id"]
    op = w.headers("operator")
    assert await _status(c, op, f"{wo}/transitions", {"to": "completed"}) == 409
    assert await _status(c, op, f"{wo}/transitions", {"to": "canceled"}) == 422  # no reason
    await _in_progress(c, w, wo)
    assert await _status(c, op, f"{wo}/transitions", {"to": "on_hold", "reason": "x"}) == 422
    assert await _status(c, op, f"{wo}/transitions", {"to": "incomplete"}) == 422
    entry = {
        "kind": "work",
        "started_at": sh(22, 8).isoformat(),
        "ended_at": sh(22, 8, 30).isoformat(),
    }
    assert await _status(c, op, f"{wo}/time", entry) == 201
    overlap = {**entry, "started_at": sh(22, 8, 15).isoformat(), "ended_at": sh(22, 9).isoformat()}
    response = await c.post(f"{WO}/{wo}/time", json=overlap, headers=op)
    assert response.status_code == 409 and "overlaps" in response.json()["detail"]
    backwards = {
        **entry,
        "started_at": sh(22, 8, 45).isoformat(),
        "ended_at": sh(22, 8, 40).isoformat(),
    }
    assert await _status(c, op, f"{wo}/time", backwards) == 422
    response = await c.post(
        f"{WO}/{wo}/parts", json={"part_no": "NOPE-1", "quantity": 1}, headers=op
    )
    assert response.status_code == 422 and "price list" in response.json()["detail"]
    assert await _status(c, op, f"{wo}/parts", {"part_no": "BRG-6204", "quantity": 0}) == 422
    got = await ok(await c.get(f"{WO}/{wo}", headers=op))
    assert (got["state"], len(got["time_entries"]), got["parts"]) == ("in_progress", 1, [])


async def test_tenants_see_only_their_own_work_orders(world: Ctx) -> None:
    c, w, _ = world
    mine, theirs = await _manual(c, w, "acme"), await _manual(c, w, "globex")
    for role in ("customer", "operator", "viewer"):
        h = w.headers(role, "acme")
        assert (await c.get(f"{WO}/{theirs['id']}", headers=h)).status_code == 404
        listed = await ok(await c.get(WO, params={"tenant_id": "globex"}, headers=h))
        assert [i["id"] for i in listed["items"]] == [mine["id"]]
    body = {"tenant_id": "globex", "title": "x", "device_id": "globex-r1"}
    assert (await c.post(WO, json=body, headers=w.headers("operator", "acme"))).status_code == 404
    foreign = {"tenant_id": "acme", "title": "x", "device_id": "globex-r1"}
    assert (await c.post(WO, json=foreign, headers=w.headers("operator"))).status_code == 404
    note = {"body": "hello"}
    h = w.headers("customer", "acme")
    assert await _status(c, h, f"{theirs['id']}/notes", note) == 404
    assert await _status(c, h, f"{mine['id']}/notes", note) == 201


async def test_technician_sees_and_updates_only_assigned_work_orders(world: Ctx) -> None:
    c, w, _ = world
    assigned, other = await _manual(c, w, "acme"), await _manual(c, w, "globex")
    tech = w.headers("technician")
    assert (await ok(await c.get(WO, headers=tech)))["items"] == []
    await _in_progress(c, w, assigned["id"])
    listed = await ok(await c.get(WO, headers=tech))
    assert [i["id"] for i in listed["items"]] == [assigned["id"]]
    assert (await c.get(f"{WO}/{other['id']}", headers=tech)).status_code == 404
    assert await _status(c, tech, f"{other['id']}/notes", {"body": "x"}) == 404
    # a dispatcher's move is not the technician's
    hold = {"to": "on_hold", "hold": "awaiting_parts", "reason": "bearing on order"}
    assert await _status(c, tech, f"{assigned['id']}/transitions", hold) == 200
    assert (
        await _status(c, tech, f"{assigned['id']}/transitions", {"to": "canceled", "reason": "x"})
        == 403
    )
    events = await ok(await c.get("/api/v1/service/events", headers=tech))
    assert {e["work_order_id"] for e in events} == {assigned["id"]}
    # an acme technician key that no technician signs in with sees nothing
    unlinked = w.headers("technician", "acme")
    assert (await c.get(WO, headers=unlinked)).status_code == 403


async def test_customer_raises_a_request_and_cannot_dispatch(world: Ctx) -> None:
    c, w, _ = world
    h = w.headers("customer", "acme")
    body = {"title": "Robot makes a noise", "device_id": "acme-r1"}
    req = await ok(await c.post("/api/v1/service/requests", json=body, headers=h))
    assert (req["source"], req["tenant_id"], req["state"]) == ("request", "acme", "new")
    # under the contract, but its p3 has no targets: no clocks
    assert req["contract_id"] is not None and req["response_due"] is None and req["sla"] == []
    assert await _status(c, h, f"{req['id']}/transitions", {"to": "qualified"}) == 403
    entry = {
        "kind": "work",
        "started_at": sh(22, 8).isoformat(),
        "ended_at": sh(22, 8, 30).isoformat(),
    }
    assert await _status(c, h, f"{req['id']}/time", entry) == 403
    assert (
        await c.post(WO, json={"title": "x", "tenant_id": "acme"}, headers=h)
    ).status_code == 403
    assert await _status(c, h, f"{req['id']}/sign-off", {"name": "Zhang"}) == 409


async def test_alert_by_hand_then_attach_and_deadlines_fixed_at_creation(world: Ctx) -> None:
    c, w, pool = world
    async with pool.acquire() as conn:
        await conn.execute("UPDATE fs_policies SET enabled = false")
    await raise_alert(pool)
    alert_id = (await ok(await c.get("/api/v1/alerts", headers=w.headers("operator"))))["items"][0][
        "id"
    ]
    assert (await ok(await c.get(WO, headers=w.headers("operator"))))["items"] == []
    wo = await ok(
        await c.post(
            WO, json={"alert_id": alert_id, "priority": "p2"}, headers=w.headers("operator")
        )
    )
    assert (wo["source"], wo["alert_ids"]) == ("alert", [alert_id])
    again = await c.post(WO, json={"alert_id": alert_id}, headers=w.headers("operator"))
    assert again.status_code == 409
    due = wo["response_due"]
    faster = {**CONTRACT, "priorities": {"p2": {"response": 30, "resolution": 60}}}
    await ok(await c.post("/api/v1/service/contracts", json=faster, headers=w.headers()))
    assert (await ok(await c.get(f"{WO}/{wo['id']}", headers=w.headers())))["response_due"] == due
    suggestions = await ok(
        await c.get(f"{WO}/{wo['id']}/suggestions", headers=w.headers("operator"))
    )
    assert suggestions[0]["technician_id"] == "li" and suggestions[0]["skill"] == 40


async def test_attachments_are_stored_and_size_limited(world: Ctx) -> None:
    c, w, _ = world
    wo = (await _manual(c, w, "acme"))["id"]
    h = {**w.headers("operator"), "content-type": "image/jpeg"}
    photo = b"\xff\xd8" + bytes(range(256)) * 40
    up = await c.put(f"{WO}/{wo}/attachments/photo.jpg", content=photo, headers=h)
    assert up.status_code == 201, up.text
    down = await c.get(f"{WO}/{wo}/attachments/{up.json()['id']}", headers=h)
    assert down.content == photo
    big = await c.put(f"{WO}/{wo}/attachments/big.bin", content=b"x" * 800_000, headers=h)
    assert big.status_code == 422 and "at most" in big.json()["detail"]
    got = await ok(await c.get(f"{WO}/{wo}", headers=h))
    assert [a["name"] for a in got["attachments"]] == ["photo.jpg"]


async def test_preventive_schedule_generates_work_orders_ahead_once(world: Ctx) -> None:
    c, w, _ = world
    h = w.headers()
    contract = (await ok(await c.get("/api/v1/service/contracts", headers=h)))[0]
    body = {
        "contract_id": contract["id"],
        "title": "Quarterly robot inspection",
        "every_months": 3,
        "next_due": "2026-07-10",
        "device_id": "acme-r1",
    }
    assert (await c.post("/api/v1/service/schedules", json=body, headers=h)).status_code == 201
    foreign = {**body, "device_id": "globex-r1"}
    assert (await c.post("/api/v1/service/schedules", json=foreign, headers=h)).status_code == 404
    made = await ok(
        await c.post("/api/v1/service/schedules/generate", json={"ahead_days": 120}, headers=h)
    )
    assert len(made["created"]) == 2  # Jul 10 and Oct 10 are within 120 days of Jun 22
    again = await ok(
        await c.post("/api/v1/service/schedules/generate", json={"ahead_days": 120}, headers=h)
    )
    assert again["created"] == []
    items = (await ok(await c.get(WO, headers=h)))["items"]
    planned = sorted(i["scheduled_for"] for i in items if i["source"] == "preventive")
    assert [_utc(p) for p in planned] == [sh(10, 9).replace(month=7), sh(10, 9).replace(month=10)]
    assert all(
        i["response_due"] is None and i["contract_id"] == contract["id"]
        for i in items
        if i["source"] == "preventive"
    )
    nxt = (await ok(await c.get("/api/v1/service/schedules", headers=h)))[0]["next_due"]
    assert nxt == "2027-01-10"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_monthly_report_counts_a_late_running_clock_as_a_breach(world: Ctx) -> None:
    c, w, _ = world
    await _manual(c, w, "acme")  # Monday 09:00, p2: respond by 13:00
    h = w.headers("customer", "acme")
    on_time = await ok(await c.get("/api/v1/service/reports/acme/2026-06", headers=h))
    assert on_time["work_orders"]["response_compliance"] is None  # still running, not late
    clock.set_to(sh(22, 14))
    late = await ok(await c.get("/api/v1/service/reports/acme/2026-06", headers=h))
    s = late["work_orders"]
    assert (s["response_breaches"], s["response_compliance"], s["open"]) == (1, 0, 1)
    assert s["resolution_compliance"] is None
    tech = w.headers("technician")
    assert (await c.get("/api/v1/service/reports/acme/2026-06", headers=tech)).status_code == 403


async def test_incomplete_revisit_close_and_cancel_are_audited(world: Ctx) -> None:
    c, w, _ = world
    op, tech = w.headers("operator"), w.headers("technician")
    wo = (await _manual(c, w, "acme"))["id"]
    await _in_progress(c, w, wo)
    steps: list[dict[str, Any]] = [
        {"to": "incomplete", "reason": "needs a new gearbox"},
        {"to": "assigned", "technician_id": "li"},
        {"to": "accepted"},
        {"to": "in_progress"},
        {"to": "completed"},
    ]
    for body in steps:
        h = op if body["to"] == "assigned" else tech  # reassigning is the dispatcher's
        await ok(await c.post(f"{WO}/{wo}/transitions", json=body, headers=h))
    assert await _status(c, tech, f"{wo}/transitions", {"to": "closed"}) == 403
    closed = await ok(await c.post(f"{WO}/{wo}/transitions", json={"to": "closed"}, headers=op))
    assert closed["closed_at"] is not None
    assert await _status(c, op, f"{wo}/transitions", {"to": "canceled", "reason": "x"}) == 409
    moves = [
        (e["from_state"], e["to_state"], e["detail"].get("reason"))
        for e in closed["events"]
        if e["action"] == "transition"
    ]
    assert moves[-6:] == [
        ("in_progress", "incomplete", "needs a new gearbox"),
        ("incomplete", "assigned", None),
        ("assigned", "accepted", None),
        ("accepted", "in_progress", None),
        ("in_progress", "completed", None),
        ("completed", "closed", None),
    ]
    other = (await _manual(c, w, "acme"))["id"]
    canceled = await ok(
        await c.post(
            f"{WO}/{other}/transitions", json={"to": "canceled", "reason": "duplicate"}, headers=op
        )
    )
    last = canceled["events"][-1]
    assert (last["to_state"], last["detail"]["reason"], last["actor"]) == (
        "canceled",
        "duplicate",
        f"key:{key_id(w, 'operator', None)}",
    )
