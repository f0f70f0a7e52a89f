"""Billing runs against the real database: drafts, idempotence, races, immutability, numbers."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from billing import invoice_service, lifecycle, service
from billing.errors import BillingError, InvoiceStateError
from billing.invoice_schemas import CreditNoteIn, CreditNoteLineIn
from billing.models import Period
from billing.schemas import SubscriptionIn, TierIn
from registry import service as registry
from registry.models import Device
from servitize.db import Pool
from tests.integration.test_billing_helpers import ROBOT_PLAN, events, subscribed

NOV = Period(2026, 11)


async def one_invoice(pool: Pool, tenant: str) -> dict[str, Any]:
    [inv] = await invoice_service.list_invoices(pool, str(NOV), tenant)
    return await invoice_service.get_invoice(pool, int(inv["id"]))


async def test_run_prices_recurring_usage_and_vat(pool: Pool) -> None:
    sub = await subscribed(pool, "acme", ["r1", "r2"])
    await registry.register_devices(pool, [Device("r3", "substation-robot", "acme")])
    # r3 joins on Nov 10 and leaves on Nov 20 (covered Nov 10..19)
    await service.add_device(pool, sub, "r3", date(2026, 11, 10))
    await service.remove_device(pool, sub, "r3", date(2026, 11, 20))
    # 150 inspections inside November (Asia/Shanghai), spread over r1
    start = datetime(2026, 11, 1, tzinfo=UTC)
    await events(
        pool, "r1", [start + timedelta(hours=4 * i) for i in range(150)], "inspection_completed"
    )
    # re-ingesting the same events counts nothing twice
    await events(
        pool, "r1", [start + timedelta(hours=4 * i) for i in range(10)], "inspection_completed"
    )
    # 23:30 UTC on Oct 31 is Nov 1 07:30 in Shanghai: November. Nov 30 23:30 UTC is December.
    await events(
        pool,
        "r2",
        [datetime(2026, 10, 31, 23, 30, tzinfo=UTC), datetime(2026, 11, 30, 23, 30, tzinfo=UTC)],
        "inspection_completed",
    )
    result = await invoice_service.run_period(pool, NOV)
    assert (result.drafts, result.skipped_issued) == (1, 0)
    inv = await one_invoice(pool, "acme")
    kinds = [(ln["kind"], ln["amount"]) for ln in inv["lines"]]
    # recurring: 2 x 30 + 10 = 70 device-days x 30000 / 30 = 70000
    # usage: 151 counted, included floor(60 x 70 / 30) = 140, 11 x 500 = 5500
    assert kinds[:2] == [("recurring", 70000), ("overage", 5500)]
    usage = inv["lines"][1]
    assert usage["usage_quantity"] == 151
    # no telemetry at all: availability 0 % -> 50 % credit of 70000
    assert kinds[2] == ("sla_credit", -35000)
    # subtotal 40500, VAT 6 % = 2430, total 42930
    assert (inv["subtotal"], inv["vat"], inv["total"]) == (40500, 2430, 42930)
    assert inv["buyer_tax_id"] == "91310000ACME" and inv["currency"] == "CNY"


async def test_rerun_is_idempotent_and_racing_runs_make_one_invoice(pool: Pool) -> None:
    for t in ("t1", "t2", "t3"):
        await subscribed(pool, t, [f"{t}-r1"])
    await invoice_service.run_period(pool, NOV)
    first = await one_invoice(pool, "t2")
    again = await invoice_service.run_period(pool, NOV)
    assert again.drafts == 3
    second = await one_invoice(pool, "t2")
    assert second["id"] == first["id"] and second["total"] == first["total"]
    assert len(second["lines"]) == len(first["lines"])
    # two runs at once on separate connections
    await asyncio.gather(
        invoice_service.run_period(pool, NOV), invoice_service.run_period(pool, NOV)
    )
    async with pool.acquire() as conn:
        n = await conn.fetchval("SELECT count(*) FROM billing_invoices WHERE period = '2026-11'")
        lines = await conn.fetchval(
            "SELECT count(*) FROM billing_invoice_lines WHERE invoice_id = $1", first["id"]
        )
    assert n == 3 and lines == len(first["lines"])


async def test_finalized_invoice_is_immutable_in_the_database(pool: Pool) -> None:
    await subscribed(pool, "acme", ["r1"])
    await invoice_service.run_period(pool, NOV)
    inv = await one_invoice(pool, "acme")
    done = await lifecycle.finalize(pool, int(inv["id"]))
    assert done["status"] == "finalized" and done["number"].startswith("INV-")
    assert await lifecycle.verify(pool, done["id"])
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError):
            await conn.execute("UPDATE billing_invoices SET total = 1 WHERE id = $1", done["id"])
        with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError):
            await conn.execute(
                "UPDATE billing_invoice_lines SET amount = 1 WHERE invoice_id = $1", done["id"]
            )
        with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError):
            await conn.execute("DELETE FROM billing_invoices WHERE id = $1", done["id"])
    rerun = await invoice_service.run_period(pool, NOV)
    assert (rerun.drafts, rerun.skipped_issued) == (0, 1)
    assert (await one_invoice(pool, "acme"))["content_hash"] == done["content_hash"]
    with pytest.raises(InvoiceStateError):
        await lifecycle.finalize(pool, done["id"])
    # someone with the power to bypass the triggers edits a line: the stored hash notices
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE billing_invoice_lines DISABLE TRIGGER USER")
        await conn.execute("UPDATE billing_invoice_lines SET amount = amount + 1")
        await conn.execute("ALTER TABLE billing_invoice_lines ENABLE TRIGGER USER")
    assert not await lifecycle.verify(pool, done["id"])
    await lifecycle.mark_paid(pool, done["id"])
    with pytest.raises(InvoiceStateError):
        await lifecycle.void(pool, done["id"], "too late")


async def test_gapless_numbers_under_concurrent_finalization(pool: Pool) -> None:
    tenants = [f"c{i}" for i in range(6)]
    for t in tenants:
        await subscribed(pool, t, [f"{t}-r"])
    await invoice_service.run_period(pool, NOV)
    ids = [int(i["id"]) for i in await invoice_service.list_invoices(pool, str(NOV))]
    done = await asyncio.gather(*(lifecycle.finalize(pool, i) for i in ids))
    year = done[0]["finalized_at"].astimezone().year
    numbers = sorted(d["number"] for d in done)
    assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, 7)]


async def test_credit_note_references_invoice_and_is_bounded(pool: Pool) -> None:
    await subscribed(pool, "acme", ["r1"])
    await invoice_service.run_period(pool, NOV)
    inv = await one_invoice(pool, "acme")
    note = CreditNoteIn(
        reason="robot r1 down two days",
        lines=[
            CreditNoteLineIn(
                description="goodwill", amount=Decimal("10.00"), vat_rate=Decimal("0.06")
            )
        ],
    )
    with pytest.raises(InvoiceStateError):
        await lifecycle.credit_note(pool, int(inv["id"]), note)
    await lifecycle.finalize(pool, int(inv["id"]))
    cn = await lifecycle.credit_note(pool, int(inv["id"]), note)
    # 1000 + 6 % VAT = 1060
    assert (cn["subtotal"], cn["vat"], cn["total"]) == (1000, 60, 1060)
    assert cn["number"].endswith("-000001") and cn["invoice_id"] == inv["id"]
    too_much = CreditNoteIn(
        reason="x",
        lines=[
            CreditNoteLineIn(
                description="all",
                amount=Decimal(inv["subtotal"]) / 100,
                vat_rate=Decimal("0.06"),
            )
        ],
    )
    with pytest.raises(BillingError, match="exceed"):
        await lifecycle.credit_note(pool, int(inv["id"]), too_much)
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError):
            await conn.execute("UPDATE billing_credit_notes SET total = 0")


async def test_late_usage_goes_on_the_next_invoice_naming_its_month(pool: Pool) -> None:
    await subscribed(pool, "acme", ["r1"])
    nov = datetime(2026, 11, 2, tzinfo=UTC)
    await events(pool, "r1", [nov + timedelta(hours=i) for i in range(70)], "inspection_completed")
    await invoice_service.run_period(pool, NOV)
    inv = await one_invoice(pool, "acme")
    await lifecycle.finalize(pool, int(inv["id"]))
    # 5 more November inspections arrive in December: included 60, billed 70 -> 5 more x 500
    await events(
        pool, "r1", [nov + timedelta(hours=100 + i) for i in range(5)], "inspection_completed"
    )
    await invoice_service.run_period(pool, NOV.next())
    [dec] = await invoice_service.list_invoices(pool, "2026-12", "acme")
    lines = (await invoice_service.get_invoice(pool, int(dec["id"])))["lines"]
    late = [ln for ln in lines if ln["kind"] == "late_usage"]
    assert len(late) == 1 and late[0]["amount"] == 2500 and late[0]["usage_period"] == "2026-11"
    assert "2026-11" in late[0]["description"]
    # once December is issued, the same late events are not billed again in January
    # December has not ended yet (these tests run in it): finalizing it early needs a reason
    await lifecycle.finalize(pool, int(dec["id"]), "test: issue the running month")
    await invoice_service.run_period(pool, Period(2027, 1))
    [jan] = await invoice_service.list_invoices(pool, "2027-01", "acme")
    jan_lines = (await invoice_service.get_invoice(pool, int(jan["id"])))["lines"]
    assert not [ln for ln in jan_lines if ln["kind"] == "late_usage"]


async def test_upgrade_mid_month_and_stale_draft_removed(pool: Pool) -> None:
    basic = ROBOT_PLAN.model_copy(
        update={"id": "basic", "sla_tiers": [], "sla_target": None, "usage_prices": []}
    )
    premium = basic.model_copy(
        update={"id": "premium", "tiers": [TierIn(unit_price=Decimal("600.00"))]}
    )
    await service.save_plan(pool, premium)
    sub = await subscribed(pool, "acme", ["r1"], date(2026, 10, 1), basic)
    # upgrade from Nov 16: 15 days at 30000/30 + 15 days at 60000/30 = 15000 + 30000
    new_sub = await service.change_plan(pool, sub, "premium", date(2026, 11, 16))
    await invoice_service.run_period(pool, NOV)
    inv = await one_invoice(pool, "acme")
    assert [(ln["plan_id"], ln["amount"]) for ln in inv["lines"]] == [
        ("basic", 15000),
        ("premium", 30000),
    ]
    # the device leaves the new plan on Dec 1 and nothing is billed in December any more
    await invoice_service.run_period(pool, NOV.next())
    assert len(await invoice_service.list_invoices(pool, "2026-12", "acme")) == 1
    await service.remove_device(pool, new_sub, "r1", date(2026, 12, 1))
    result = await invoice_service.run_period(pool, NOV.next())
    assert result.removed_empty == 1
    assert await invoice_service.list_invoices(pool, "2026-12", "acme") == []
    with pytest.raises(BillingError, match="already covered"):
        await service.subscribe(
            pool,
            SubscriptionIn(
                tenant_id="acme", plan_id="basic", start_date=date(2026, 11, 20), device_ids=["r1"]
            ),
        )
    with pytest.raises(BillingError, match="outside subscription"):
        await service.add_device(pool, sub, "r1", date(2026, 11, 20))


async def test_period_finalization_races_stay_gapless(pool: Pool) -> None:
    tenants = [f"p{i}" for i in range(5)]
    for t in tenants:
        await subscribed(pool, t, [f"{t}-r"])
    await invoice_service.run_period(pool, NOV)
    one = (await invoice_service.list_invoices(pool, str(NOV), "p3"))[0]["id"]
    # two whole-period finalizations and a single one at once: every invoice once, no gaps
    results = await asyncio.gather(
        lifecycle.finalize_period(pool, NOV),
        lifecycle.finalize_period(pool, NOV),
        lifecycle.finalize(pool, one),
        return_exceptions=True,
    )
    issued = await invoice_service.list_invoices(pool, str(NOV), status="finalized")
    year = issued[0]["finalized_at"].astimezone().year
    assert sorted(i["number"] for i in issued) == [f"INV-{year}-{n:06d}" for n in range(1, 6)]
    periods = [r for r in results if isinstance(r, list)]
    assert sum(len(r) for r in periods) + (not isinstance(results[2], BaseException)) == 5
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT last_value FROM billing_number_counters") == 5
    # a rerun finalizes nothing more
    assert await lifecycle.finalize_period(pool, NOV) == []
