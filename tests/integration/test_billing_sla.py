"""SLA availability measured from real stored telemetry with gaps, one tenant per tier."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from analytics.alerts import service as analytics
from billing import invoice_service, usage
from billing import models as billing_models
from billing.models import Period
from servitize.db import Pool
from tests.integration.test_billing_helpers import subscribed

NOV = Period(2026, 11)
# November 2026 in Asia/Shanghai starts at 2026-10-31 16:00 UTC; 30 days = 8640 intervals
START = datetime(2026, 10, 31, 16, tzinfo=UTC)
INTERVALS = 8640


async def telemetry_with_gap(pool: Pool, device: str, gap_start: int, gap: int) -> None:
    """One reading per 5-minute interval (two metrics, mid-interval) except a gap of `gap`."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """INSERT INTO telemetry (device_id, metric, ts, value)
               SELECT $1, m, $2::timestamptz + i * interval '5 minutes' + interval '150 seconds', i
               FROM generate_series(0, $3 - 1) i, unnest(ARRAY['temp', 'battery']) m
               WHERE i < $4 OR i >= $4 + $5""",
            device,
            START,
            INTERVALS,
            gap_start,
            gap,
        )
        await conn.execute(
            """INSERT INTO ingest_batches (device_ids, min_ts, max_ts, readings, events)
               VALUES ($1, $2, $3, $4, 0)""",
            [device],
            START,
            START + timedelta(days=30),
            2 * (INTERVALS - gap),
        )


async def test_every_sla_tier_from_stored_telemetry(pool: Pool) -> None:
    # gap -> availability -> tier -> credit of the 30000 recurring charge
    cases = {
        "ok": (20, "99.769", 0),  # 8620/8640 = 99.769 %: above the 99.5 % target
        "minor": (60, "99.306", -3000),  # 8580/8640 = 99.306 % < 99.5 -> 10 %
        "major": (200, "97.685", -7500),  # 8440/8640 = 97.685 % < 99 -> 25 %
        "outage": (900, "89.583", -15000),  # 7740/8640 = 89.583 % < 95 -> 50 %
    }
    for tenant, (gap, _, _) in cases.items():
        await subscribed(pool, tenant, [f"{tenant}-r1"])
        await telemetry_with_gap(pool, f"{tenant}-r1", 1000, gap)
    await invoice_service.run_period(pool, NOV)
    for tenant, (_, shown, credit) in cases.items():
        [inv] = await invoice_service.list_invoices(pool, str(NOV), tenant)
        lines = (await invoice_service.get_invoice(pool, int(inv["id"])))["lines"]
        sla = [ln for ln in lines if ln["kind"] == "sla_credit"]
        assert sum(ln["amount"] for ln in sla) == credit, tenant
        if credit:
            assert sla[0]["detail"]["availability"] == shown
            assert f"availability {shown} %" in sla[0]["description"]


async def test_availability_counts_only_covered_time_and_skips_maintenance(pool: Pool) -> None:
    # covered from Nov 16 (Shanghai): 15 days = 4320 intervals; the gap lies before coverage
    sub = await subscribed(pool, "late", ["late-r1"], start=date(2026, 11, 16))
    await telemetry_with_gap(pool, "late-r1", 100, 300)
    async with pool.acquire() as conn:
        got = await usage.availability(conn, NOV.first, NOV.next_first, None, [sub], [])
        assert got == {sub: (4320, 4320)}
        # a gap of 12 intervals on Nov 20 (Shanghai) -> 4308 / 4320
        gap_at = START + timedelta(days=19, hours=3)
        await conn.execute(
            "DELETE FROM telemetry WHERE device_id = 'late-r1' AND ts >= $1 AND ts < $2",
            gap_at,
            gap_at + timedelta(hours=1),
        )
        assert await usage.availability(conn, NOV.first, NOV.next_first, None, [sub], []) == {
            sub: (4308, 4320)
        }
        # that hour declared maintenance: its 12 intervals leave the count on both sides
        window = billing_models.Window("late-r1", gap_at, gap_at + timedelta(hours=1))
        assert await usage.availability(conn, NOV.first, NOV.next_first, None, [sub], [window]) == {
            sub: (4308, 4308)
        }


async def test_maintenance_window_from_analytics_removes_the_credit(pool: Pool) -> None:
    # a 60-interval gap (99.306 %, 10 % credit) falls entirely in a tenant-wide window
    await subscribed(pool, "maint", ["maint-r1"])
    await telemetry_with_gap(pool, "maint-r1", 1000, 60)
    gap_start = START + timedelta(minutes=5 * 1000)
    await analytics.add_maintenance(
        pool, "maint", gap_start, gap_start + timedelta(minutes=5 * 60), "test", reason="swap"
    )
    await invoice_service.run_period(pool, NOV)
    [inv] = await invoice_service.list_invoices(pool, str(NOV), "maint")
    lines = (await invoice_service.get_invoice(pool, int(inv["id"])))["lines"]
    assert [ln["kind"] for ln in lines] == ["recurring"]
    async with pool.acquire() as conn:
        windows = await usage.maintenance_windows(conn, START, START + timedelta(days=30), None)
    assert [w.device_id for w in windows] == ["maint-r1"]
