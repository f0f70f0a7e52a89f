"""Usage reported through the API (idempotent by event id) and quarterly plans billed in
advance, through the API on real PostgreSQL."""

from __future__ import annotations

from typing import Any

from registry import service as registry
from registry.models import Device
from servitize.db import Pool
from tests.integration.test_api_support import client, seed
from tests.integration.test_billing_amounts_api import B, flat, only_invoice, subscribe


def record(event_id: str, ts: str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "tenant_id": "acme",
        "device_id": "acme-r1",
        "usage_type": "support_hours",
        "quantity": quantity,
        "ts": ts,
        **extra,
    }


async def test_reported_usage_is_stored_once_and_billed(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    price = [{"usage_type": "support_hours", "unit_price": "50.00", "included_per_device": 1}]
    async with client(pool) as c:
        plan = flat("care", "300.00", usage_prices=price)
        assert (await c.put(f"{B}/plans/care", json=plan, headers=fin)).is_success
        await subscribe(c, fin, "acme", "care", ["acme-r1"], "2026-10-01")
        batch = {
            "records": [
                record("t-1", "2026-11-03T10:00:00+08:00", 2),
                record("t-2", "2026-11-20T09:00:00+08:00", 2),
                # 2026-11-30 20:00 UTC is December 1st in Shanghai: December's usage
                record("t-3", "2026-11-30T20:00:00Z"),
            ]
        }
        first = await c.post(f"{B}/usage", json=batch, headers=fin)
        assert first.status_code == 200, first.text
        assert first.json() == {"accepted": 3, "duplicates": 0, "conflicts": []}
        # the sender retries the whole batch, and changes one record by mistake
        again = {"records": [*batch["records"][:2], record("t-3", "2026-11-30T20:00:00Z", 5)]}
        retry = await c.post(f"{B}/usage", json=again, headers=fin)
        assert retry.json() == {"accepted": 0, "duplicates": 2, "conflicts": ["t-3"]}
        bad = [
            {"records": [record("x", "2026-11-03T10:00:00")]},  # no offset
            {"records": [record("x", "2026-11-03T10:00:00Z", 0)]},
            {"records": [record("x", "2026-11-03T10:00:00Z", usage_type="telemetry_values")]},
            {"records": [record("x", "2026-11-03T10:00:00Z"), record("x", "2026-11-04T10:00Z")]},
            {"records": [record("x", "2026-11-03T10:00:00Z", device_id="globex-r1")]},
        ]
        for body in bad:
            assert (await c.post(f"{B}/usage", json=body, headers=fin)).status_code == 422, body
        tenant_key = world.headers("finance", "acme")
        assert (await c.post(f"{B}/usage", json=batch, headers=tenant_key)).status_code == 403
        assert (await c.post(f"{B}/runs", json={"period": "2026-11"}, headers=fin)).is_success
        inv = await only_invoice(c, fin, "2026-11")
    # 4 hours in November, 1 included per device-month: 3 x 50.00 = 150.00
    [usage] = [ln for ln in inv["lines"] if ln["usage_type"] == "support_hours"]
    assert (usage["amount"], usage["detail"]["used"]) == ("150.00", 4)
    assert inv["subtotal"] == "450.00"


async def test_a_quarterly_plan_billed_in_advance_through_the_api(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    await registry.register_devices(pool, [Device("acme-r2", "substation-robot", "acme")])
    plan = flat("quarterly", "900.00", interval="quarter")
    async with client(pool) as c:
        assert (await c.put(f"{B}/plans/quarterly", json=plan, headers=fin)).is_success
        shown = (await c.get(f"{B}/plans", headers=fin)).json()
        assert (shown[0]["interval"], shown[0]["bill_charges_monthly"]) == ("quarter", False)
        await subscribe(c, fin, "acme", "quarterly", ["acme-r1"], "2026-10-01")
        assert (await c.post(f"{B}/runs", json={"period": "2026-10"}, headers=fin)).is_success
        october = await only_invoice(c, fin, "2026-10")
        assert october["subtotal"] == "900.00"  # the whole of 2026-Q4 in advance
        assert (await c.post(f"{B}/invoices/{october['id']}/finalize", headers=fin)).is_success
        sub_id = (await c.get(f"{B}/subscriptions", headers=fin)).json()[0]["id"]
        join = {"device_id": "acme-r2", "on": "2026-11-16"}
        assert (
            await c.post(f"{B}/subscriptions/{sub_id}/devices", json=join, headers=fin)
        ).is_success
        assert (await c.post(f"{B}/runs", json={"period": "2026-11"}, headers=fin)).is_success
        november = await only_invoice(c, fin, "2026-11")
    # r2's 46 remaining days of the quarter: 900.00 x 46 / 92 = 450.00
    [line] = november["lines"]
    assert (line["amount"], line["detail"]["term"], line["detail"]["billed_before"]) == (
        "450.00",
        "2026-Q4",
        "900.00",
    )
