"""The billing run on the TimescaleDB path: hypertables for telemetry and device_events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing import invoice_service
from servitize import db
from tests.integration.test_billing_helpers import events, subscribed
from tests.integration.test_billing_sla import NOV, START, telemetry_with_gap

pytestmark = pytest.mark.timescale


async def test_sla_and_usage_on_hypertables(timescale_url: str) -> None:
    pool = await db.create_pool(timescale_url, max_size=3)
    try:
        await subscribed(pool, "tsdb", ["tsdb-r1"])
        await telemetry_with_gap(pool, "tsdb-r1", 1000, 200)  # 97.685 % -> 25 %
        stamps = [START + timedelta(hours=5 * i) for i in range(70)]
        await events(pool, "tsdb-r1", stamps, "inspection_completed")
        await events(
            pool, "tsdb-r1", [datetime(2026, 11, 30, 23, 30, tzinfo=UTC)], "inspection_completed"
        )  # December in Shanghai
        await invoice_service.run_period(pool, NOV)
        [inv] = await invoice_service.list_invoices(pool, str(NOV), "tsdb")
        lines = (await invoice_service.get_invoice(pool, int(inv["id"])))["lines"]
        # 30000 recurring; 70 used, 60 included -> 10 x 500; 25 % of 30000 credited
        assert [(ln["kind"], ln["amount"]) for ln in lines] == [
            ("recurring", 30000),
            ("overage", 5000),
            ("sla_credit", -7500),
        ]
    finally:
        await pool.close()
