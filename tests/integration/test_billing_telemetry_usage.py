"""Usage metered from stored telemetry: data points per device, counted once, by device time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing import invoice_service
from billing.models import Period
from billing.schemas import PlanIn
from servitize.db import Pool
from tests.integration.test_billing_helpers import subscribed

DATA_PLAN = PlanIn.model_validate(
    {
        "id": "sensor-data",
        "name": "Sensor monitoring, data points metered",
        "pricing_model": "flat",
        "tiers": [{"unit_price": "100.00"}],
        "usage_prices": [
            {"usage_type": "telemetry_values", "unit_price": "0.02", "included_per_device": 100}
        ],
    }
)


async def _store(pool: Pool, device: str, stamps: list[datetime]) -> None:
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO telemetry (device_id, metric, ts, value) VALUES ($1, $2, $3, 1.0) "
            "ON CONFLICT DO NOTHING",
            [(device, m, ts) for ts in stamps for m in ("temp_c", "strain_ue")],
        )


async def test_telemetry_values_are_metered_once_in_the_tenant_month(pool: Pool) -> None:
    await subscribed(pool, "city", ["b1"], plan=DATA_PLAN)
    start = datetime(2026, 11, 2, tzinfo=UTC)
    stamps = [start + timedelta(minutes=10 * i) for i in range(125)]
    await _store(pool, "b1", stamps)
    await _store(pool, "b1", stamps[:50])  # redelivered: stored (and metered) once
    # Nov 30 16:30 UTC is Dec 1 00:30 in Shanghai: December's usage, not November's.
    await _store(pool, "b1", [datetime(2026, 11, 30, 16, 30, tzinfo=UTC)])
    await invoice_service.run_period(pool, Period(2026, 11))
    [listed] = await invoice_service.list_invoices(pool, "2026-11", "city")
    inv = await invoice_service.get_invoice(pool, int(listed["id"]))
    lines = {ln["kind"]: ln for ln in inv["lines"]}
    # 125 stamps x 2 metrics = 250 values; included floor(100 x 30 / 30) = 100; 150 x 2 fen
    assert lines["overage"]["usage_quantity"] == 250
    assert lines["overage"]["amount"] == 300
    assert lines["recurring"]["amount"] == 10000
