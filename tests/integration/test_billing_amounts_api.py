"""Issue #14 "wrong amounts" through the API on real PostgreSQL: credit caps per VAT rate
under concurrency, usage assigned once across a zone change, honest running-month drafts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from billing.models import Period
from registry import service as registry
from registry.models import Device, Tenant
from servitize.db import Pool
from tests.integration.test_api_support import client, seed
from tests.integration.test_billing_helpers import ROBOT_PLAN, events

B = "/api/v1/billing"


def flat(plan_id: str, price: str, vat: str = "0.06", **extra: Any) -> dict[str, Any]:
    return {
        "id": plan_id,
        "name": plan_id,
        "pricing_model": "flat",
        "tiers": [{"unit_price": price}],
        "vat_rate": vat,
        **extra,
    }


async def subscribe(
    c: httpx.AsyncClient, h: dict[str, str], tenant: str, plan: str, devices: list[str], start: str
) -> None:
    body = {"tenant_id": tenant, "plan_id": plan, "start_date": start, "device_ids": devices}
    r = await c.post(f"{B}/subscriptions", json=body, headers=h)
    assert r.status_code == 201, r.text


async def only_invoice(c: httpx.AsyncClient, h: dict[str, str], period: str) -> dict[str, Any]:
    [inv] = (await c.get(f"{B}/invoices?period={period}", headers=h)).json()
    detail: dict[str, Any] = (await c.get(f"{B}/invoices/{inv['id']}", headers=h)).json()
    return detail


def note(amount: str, rate: str) -> dict[str, Any]:
    return {
        "reason": "correction",
        "lines": [{"description": "x", "amount": amount, "vat_rate": rate}],
    }


async def test_credit_notes_are_capped_per_rate_and_in_total_under_concurrency(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    await registry.register_devices(pool, [Device("acme-r2", "substation-robot", "acme")])
    async with client(pool) as c:
        for plan in (flat("six", "200.00"), flat("thirteen", "100.05", "0.13")):
            assert (await c.put(f"{B}/plans/{plan['id']}", json=plan, headers=fin)).is_success
        await subscribe(c, fin, "acme", "six", ["acme-r1"], "2026-10-01")
        await subscribe(c, fin, "acme", "thirteen", ["acme-r2"], "2026-10-01")
        assert (await c.post(f"{B}/runs", json={"period": "2026-11"}, headers=fin)).is_success
        inv = await only_invoice(c, fin, "2026-11")
        # 200.00 at 6 % (VAT 12.00) + 100.05 at 13 % (VAT 13.0065 -> 13.01)
        assert (inv["subtotal"], inv["vat"], inv["total"]) == ("300.05", "25.01", "325.06")
        url = f"{B}/invoices/{inv['id']}"
        assert (await c.post(f"{url}/finalize", headers=fin)).status_code == 200
        # 201.05 at 13 % fits under the subtotal (300.05) but not under 13 %'s 100.05
        r = await c.post(f"{url}/credit-notes", json=note("201.05", "0.13"), headers=fin)
        assert r.status_code == 422 and "13 %" in r.json()["detail"], r.text
        # five concurrent notes of 50.00 at 6 %: exactly four fit into 200.00
        racing = await asyncio.gather(
            *(
                c.post(f"{url}/credit-notes", json=note("50.00", "0.06"), headers=fin)
                for _ in range(5)
            )
        )
        assert sorted(r.status_code for r in racing) == [201, 201, 201, 201, 422]
        assert {r.json()["vat"] for r in racing if r.status_code == 201} == {"3.00"}
        last = await c.post(f"{url}/credit-notes", json=note("100.05", "0.13"), headers=fin)
        assert last.status_code == 201 and last.json()["vat"] == "13.01"
        over = await c.post(f"{url}/credit-notes", json=note("0.01", "0.13"), headers=fin)
        assert over.status_code == 422
        notes = (await c.get(f"{url}/credit-notes", headers=fin)).json()
        credited = sum(round(float(n["total"]) * 100) for n in notes)
        assert credited == 32506  # the invoice's total, to the fen, never more


async def test_zone_change_after_issue_does_not_bill_an_event_twice(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    await registry.save_tenant(pool, Tenant("acme", "Acme", "UTC"))
    plan = flat(
        "metered",
        "100.00",
        usage_prices=[{"usage_type": "inspection_completed", "unit_price": "5.00"}],
    )
    edge = datetime(2026, 11, 30, 20, tzinfo=UTC)  # November in UTC, Dec 1 04:00 in Shanghai
    await events(
        pool, "acme-r1", [datetime(2026, 11, 15, tzinfo=UTC), edge], "inspection_completed"
    )
    async with client(pool) as c:
        assert (await c.put(f"{B}/plans/metered", json=plan, headers=fin)).is_success
        await subscribe(c, fin, "acme", "metered", ["acme-r1"], "2026-10-01")
        assert (await c.post(f"{B}/runs", json={"period": "2026-11"}, headers=fin)).is_success
        nov = await only_invoice(c, fin, "2026-11")
        assert (await c.post(f"{B}/invoices/{nov['id']}/finalize", headers=fin)).is_success
        issued = await only_invoice(c, fin, "2026-11")
        assert issued["timezone"] == "UTC"
        assert issued["period_start"].startswith("2026-11-01T00:00:00")
        assert issued["period_end"].startswith("2026-12-01T00:00:00")
        assert [ln["amount"] for ln in issued["lines"] if ln["kind"] == "usage"] == ["10.00"]
        # the tenant moves to Shanghai: December must start where November ended
        await registry.save_tenant(pool, Tenant("acme", "Acme", "Asia/Shanghai"))
        assert (await c.post(f"{B}/runs", json={"period": "2026-12"}, headers=fin)).is_success
        dec = await only_invoice(c, fin, "2026-12")
    assert dec["timezone"] == "Asia/Shanghai"
    assert dec["period_start"].startswith("2026-12-01T00:00:00")  # November's end, in UTC
    assert dec["period_end"].startswith("2026-12-31T16:00:00")
    kinds = [ln["kind"] for ln in dec["lines"]]
    assert "usage" not in kinds and "late_usage" not in kinds, dec["lines"]


async def readings_except(pool: Pool, device: str, start: datetime, n: int, skip: int) -> None:
    """A reading in each 5-minute interval of n from `start`, the first `skip` left out."""
    async with pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO telemetry (device_id, metric, ts, value)
               SELECT $1, 'temp', $2::timestamptz + i * interval '5 minutes' + interval '1 min', i
               FROM generate_series($4::int, $3::int - 1) i""",
            device,
            start,
            n,
            skip,
        )


async def test_running_month_draft_measures_elapsed_time_and_early_finalize_needs_a_reason(
    pool: Pool,
) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    zone = ZoneInfo("Asia/Shanghai")
    now = datetime.now(UTC)
    month = Period.of(now.astimezone(zone).date())
    start = month.bounds("Asia/Shanghai")[0].astimezone(UTC)
    elapsed = int((now - start).total_seconds() // 300) + 12  # a little past now, too
    skip = max(1, elapsed * 3 // 100)  # about 97 % available so far
    await readings_except(pool, "acme-r1", start, elapsed, skip)
    plan = {**ROBOT_PLAN.model_dump(mode="json"), "usage_prices": []}
    async with client(pool) as c:
        assert (await c.put(f"{B}/plans/{plan['id']}", json=plan, headers=fin)).is_success
        await subscribe(c, fin, "acme", plan["id"], ["acme-r1"], str(month.first))
        assert (await c.post(f"{B}/runs", json={"period": str(month)}, headers=fin)).is_success
        inv = await only_invoice(c, fin, str(month))
        until = datetime.fromisoformat(inv["measured_until"])
        assert start < until <= now + timedelta(minutes=5)
        measured = int((until - start).total_seconds() // 300)
        sla = [ln for ln in inv["lines"] if ln["kind"] == "sla_credit"]
        # measured over the elapsed intervals only (the whole month would give ~0 % -> 50 %)
        if measured > skip:
            got = sla[0]["detail"]["availability"] if sla else "100"
            want = (measured - skip) * 100 / measured
            assert abs(float(got) - want) < 0.001, (got, want)
        if sla:
            assert "provisional" in sla[0]["description"]
            assert sla[0]["detail"]["measured_until"] == until.isoformat()
        url = f"{B}/invoices/{inv['id']}/finalize"
        early = await c.post(url, headers=fin)
        assert early.status_code == 409 and "has not ended" in early.json()["detail"]
        blank = await c.post(url, json={"force": True, "reason": " "}, headers=fin)
        assert blank.status_code == 422
        forced = await c.post(url, json={"force": True, "reason": "customer leaves"}, headers=fin)
        assert forced.status_code == 200, forced.text
        assert forced.json()["early_finalize_reason"] == "customer leaves"
