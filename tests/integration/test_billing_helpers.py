"""Shared set-up for the billing integration tests (no tests here)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from billing import service
from billing.schemas import PlanIn, SubscriptionIn
from registry import service as registry
from registry.models import Device, Tenant
from servitize.db import Pool

ROBOT_PLAN = PlanIn.model_validate(
    {
        "id": "robot-care",
        "name": "Robot care",
        "pricing_model": "flat",
        "tiers": [{"unit_price": "300.00"}],
        "usage_prices": [
            {"usage_type": "inspection_completed", "unit_price": "5.00", "included_per_device": 60}
        ],
        "sla_target": "99.5",
        "sla_tiers": [
            {"below": "99.5", "credit": "10"},
            {"below": "99", "credit": "25"},
            {"below": "95", "credit": "50"},
        ],
    }
)


async def tenant_with_devices(
    pool: Pool, tenant_id: str, devices: list[str], tz: str = "Asia/Shanghai"
) -> None:
    """A tenant with robots registered."""
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(
        pool, Tenant(tenant_id, f"客户 {tenant_id}", tz, tax_id=f"91310000{tenant_id.upper()}")
    )
    await registry.register_devices(
        pool, [Device(d, "substation-robot", tenant_id) for d in devices]
    )


async def subscribed(
    pool: Pool,
    tenant_id: str,
    devices: list[str],
    start: date = date(2026, 1, 1),
    plan: PlanIn = ROBOT_PLAN,
) -> int:
    """A tenant, its robots and a subscription covering them from `start`."""
    await tenant_with_devices(pool, tenant_id, devices)
    await service.save_plan(pool, plan)
    return await service.subscribe(
        pool,
        SubscriptionIn(tenant_id=tenant_id, plan_id=plan.id, start_date=start, device_ids=devices),
    )


async def events(pool: Pool, device_id: str, stamps: list[datetime], kind: str) -> None:
    """Store device events the way ingest does (ON CONFLICT: re-ingest is a no-op)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            """INSERT INTO device_events (device_id, ts, type) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING""",
            [(device_id, ts, kind) for ts in stamps],
        )
        await conn.execute(
            """INSERT INTO ingest_batches (device_ids, min_ts, max_ts, readings, events)
               VALUES ($1, $2, $3, 0, $4)""",
            [device_id],
            min(stamps),
            max(stamps),
            len(stamps),
        )


def money(value: str) -> int:
    """Yuan as written in a worked example -> fen."""
    return int(Decimal(value) * 100)
