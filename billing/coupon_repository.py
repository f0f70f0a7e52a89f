"""Coupon SQL: the catalog and each tenant's redemptions. Never commits."""

from __future__ import annotations

from typing import Any

import asyncpg

from billing.coupons import Coupon
from billing.models import Period
from servitize.db import Connection


async def upsert(conn: Connection, c: dict[str, Any]) -> None:
    """Create or replace a coupon (amount_off in minor units)."""
    await conn.execute(
        """INSERT INTO billing_coupons
           (code, name, percent_off, amount_off, currency, duration_months)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (code) DO UPDATE SET name = $2, percent_off = $3, amount_off = $4,
             currency = $5, duration_months = $6""",
        c["code"],
        c["name"],
        c["percent_off"],
        c["amount_off"],
        c["currency"],
        c["duration_months"],
    )


async def coupons(conn: Connection) -> list[asyncpg.Record]:
    """Every coupon."""
    return await conn.fetch("SELECT * FROM billing_coupons ORDER BY code")


async def coupon(conn: Connection, code: str) -> asyncpg.Record | None:
    """One coupon."""
    return await conn.fetchrow("SELECT * FROM billing_coupons WHERE code = $1", code)


async def redeem(conn: Connection, tenant_id: str, code: str, first_period: str) -> bool:
    """Record a tenant's redemption; False when it had redeemed the coupon already."""
    status: str = await conn.execute(
        """INSERT INTO billing_coupon_redemptions (tenant_id, code, first_period)
           VALUES ($1, $2, $3) ON CONFLICT DO NOTHING""",
        tenant_id,
        code,
        first_period,
    )
    return status.endswith(" 1")


async def redeemed(conn: Connection, tenant_ids: list[str] | None) -> dict[str, list[Coupon]]:
    """Each tenant's redeemed coupons."""
    rows = await conn.fetch(
        """SELECT r.tenant_id, r.first_period, c.* FROM billing_coupon_redemptions r
           JOIN billing_coupons c ON c.code = r.code
           WHERE $1::text[] IS NULL OR r.tenant_id = ANY($1) ORDER BY r.tenant_id, c.code""",
        tenant_ids,
    )
    out: dict[str, list[Coupon]] = {}
    for r in rows:
        out.setdefault(r["tenant_id"], []).append(
            Coupon(
                r["code"],
                r["name"],
                Period.parse(r["first_period"]),
                r["percent_off"],
                r["amount_off"],
                r["currency"].strip() if r["currency"] else None,
                r["duration_months"],
            )
        )
    return out
