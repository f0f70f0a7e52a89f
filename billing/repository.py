"""Billing catalog SQL: plans, subscriptions and covered devices. Never commits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from billing.models import OneOffFee, Plan, SlaTier, Tier, UsagePrice
from servitize.db import Connection

_PLAN_COLUMNS = (
    "id, name, pricing_model, tiers, currency, usage_prices, one_off_fees, "
    "minimum_commitment, sla_target, sla_tiers, vat_rate, billing_interval, bill_charges_monthly"
)


async def upsert_plan(conn: Connection, plan: Plan) -> None:
    """Create or replace a plan (stored in minor units, the JSON shapes shown in 0200)."""
    await conn.execute(
        f"""INSERT INTO billing_plans ({_PLAN_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            ON CONFLICT (id) DO UPDATE SET name = $2, pricing_model = $3, tiers = $4,
              currency = $5, usage_prices = $6, one_off_fees = $7, minimum_commitment = $8,
              sla_target = $9, sla_tiers = $10, vat_rate = $11, billing_interval = $12,
              bill_charges_monthly = $13""",
        plan.id,
        plan.name,
        plan.pricing_model,
        [
            {"up_to": t.up_to, "unit_price": str(t.unit_price), "flat_fee": str(t.flat_fee)}
            for t in plan.tiers
        ],
        plan.currency,
        [
            {
                "usage_type": u.usage_type,
                "unit_price": str(u.unit_price),
                "included_per_device": u.included_per_device,
                "description": u.description,
            }
            for u in plan.usage
        ],
        [
            {"name": f.name, "amount": f.amount, "per_device": f.per_device}
            for f in plan.one_off_fees
        ],
        plan.minimum_commitment,
        plan.sla_target,
        [{"below": str(t.below), "credit": str(t.credit)} for t in plan.sla_tiers],
        plan.vat_rate,
        plan.interval,
        plan.bill_charges_monthly,
    )


async def plans(conn: Connection, ids: list[str] | None = None) -> list[Plan]:
    """All plans, or the given ones."""
    rows = await conn.fetch(
        f"SELECT {_PLAN_COLUMNS} FROM billing_plans WHERE $1::text[] IS NULL OR id = ANY($1)"
        " ORDER BY id",
        ids,
    )
    return [_plan(r) for r in rows]


async def plans_checked(conn: Connection) -> tuple[dict[str, Plan], dict[str, str]]:
    """Every plan that loads, and why each other one does not (a row written before prices
    were bounded): a billing run bills the tenants on the others."""
    good, broken = {}, {}
    for row in await conn.fetch(f"SELECT {_PLAN_COLUMNS} FROM billing_plans ORDER BY id"):
        try:
            good[row["id"]] = _plan(row)
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            broken[row["id"]] = f"plan {row['id']} is invalid: {exc}"
    return good, broken


def _plan(row: Any) -> Plan:
    """A billing_plans row (minor units) as a domain plan."""
    return Plan(
        row["id"],
        row["name"],
        row["pricing_model"],
        tuple(
            Tier(t.get("up_to"), Decimal(str(t["unit_price"])), Decimal(str(t.get("flat_fee", 0))))
            for t in row["tiers"]
        ),
        row["currency"].strip(),
        tuple(
            UsagePrice(
                u["usage_type"],
                Decimal(str(u["unit_price"])),
                int(u.get("included_per_device", 0)),
                u.get("description", ""),
            )
            for u in row["usage_prices"]
        ),
        tuple(
            OneOffFee(f["name"], int(f["amount"]), bool(f.get("per_device", False)))
            for f in row["one_off_fees"]
        ),
        int(row["minimum_commitment"]),
        row["sla_target"],
        tuple(
            SlaTier(Decimal(str(t["below"])), Decimal(str(t["credit"]))) for t in row["sla_tiers"]
        ),
        row["vat_rate"],
        row["billing_interval"],
        row["bill_charges_monthly"],
    )


async def insert_subscription(
    conn: Connection,
    tenant_id: str,
    plan_id: str,
    start: date,
    end: date | None,
    trial_days: int,
    replaces: int | None = None,
) -> int:
    """Insert a subscription and return its id."""
    sub_id: int = await conn.fetchval(
        """INSERT INTO billing_subscriptions
           (tenant_id, plan_id, start_date, end_date, trial_days, replaces)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        tenant_id,
        plan_id,
        start,
        end,
        trial_days,
        replaces,
    )
    return sub_id


async def subscription(conn: Connection, sub_id: int, *, lock: bool = False) -> asyncpg.Record:
    """One subscription row (FOR UPDATE when lock); LookupError if absent."""
    row = await conn.fetchrow(
        "SELECT * FROM billing_subscriptions WHERE id = $1" + (" FOR UPDATE" if lock else ""),
        sub_id,
    )
    if row is None:
        raise LookupError(f"subscription {sub_id} not found")
    return row


async def subscriptions(conn: Connection, tenant_id: str | None) -> list[asyncpg.Record]:
    """Subscriptions with their coverage, of one tenant or all."""
    return await conn.fetch(
        """SELECT s.*, coalesce(jsonb_agg(jsonb_build_object('device_id', c.device_id,
                    'start_date', c.start_date, 'end_date', c.end_date)
                    ORDER BY c.device_id, c.start_date) FILTER (WHERE c.device_id IS NOT NULL),
                  '[]') AS coverage
           FROM billing_subscriptions s
           LEFT JOIN billing_coverage c ON c.subscription_id = s.id
           WHERE $1::text IS NULL OR s.tenant_id = $1
           GROUP BY s.id ORDER BY s.id""",
        tenant_id,
    )


async def set_subscription_end(conn: Connection, sub_id: int, end: date) -> None:
    """End a subscription and every open or later coverage at `end`."""
    await conn.execute("UPDATE billing_subscriptions SET end_date = $2 WHERE id = $1", sub_id, end)
    await conn.execute(
        """DELETE FROM billing_coverage WHERE subscription_id = $1 AND start_date >= $2""",
        sub_id,
        end,
    )
    await conn.execute(
        """UPDATE billing_coverage SET end_date = $2
           WHERE subscription_id = $1 AND (end_date IS NULL OR end_date > $2)""",
        sub_id,
        end,
    )


async def add_coverage(conn: Connection, sub_id: int, device_ids: list[str], start: date) -> None:
    """Cover devices from a date."""
    await conn.executemany(
        "INSERT INTO billing_coverage (subscription_id, device_id, start_date) VALUES ($1, $2, $3)",
        [(sub_id, d, start) for d in device_ids],
    )


async def end_coverage(conn: Connection, sub_id: int, device_id: str, end: date) -> int:
    """End a device's open coverage; returns how many rows changed."""
    status: str = await conn.execute(
        """UPDATE billing_coverage SET end_date = $3
           WHERE subscription_id = $1 AND device_id = $2 AND start_date < $3
             AND (end_date IS NULL OR end_date > $3)""",
        sub_id,
        device_id,
        end,
    )
    return int(status.split()[-1])


async def open_devices(conn: Connection, sub_id: int, on: date) -> list[str]:
    """Devices covered on a date."""
    rows = await conn.fetch(
        """SELECT device_id FROM billing_coverage WHERE subscription_id = $1
           AND start_date <= $2 AND (end_date IS NULL OR end_date > $2) ORDER BY device_id""",
        sub_id,
        on,
    )
    return [r["device_id"] for r in rows]


async def conflicting_coverage(
    conn: Connection, device_ids: list[str], start: date, end: date | None, exclude_sub: int | None
) -> list[str]:
    """Devices already covered by another subscription somewhere in [start, end)."""
    rows = await conn.fetch(
        """SELECT DISTINCT c.device_id FROM billing_coverage c
           JOIN billing_subscriptions s ON s.id = c.subscription_id
           WHERE c.device_id = ANY($1) AND s.id IS DISTINCT FROM $4
             AND c.start_date < coalesce($3, 'infinity'::date)
             AND coalesce(c.end_date, s.end_date, 'infinity'::date) > $2""",
        device_ids,
        start,
        end,
        exclude_sub,
    )
    return [r["device_id"] for r in rows]


async def tenant_currencies(conn: Connection, tenant_id: str) -> set[str]:
    """Currencies of the tenant's existing subscriptions."""
    rows = await conn.fetch(
        """SELECT DISTINCT p.currency FROM billing_subscriptions s
           JOIN billing_plans p ON p.id = s.plan_id WHERE s.tenant_id = $1""",
        tenant_id,
    )
    return {r["currency"] for r in rows}


def coverage_rows(row: Any) -> list[dict[str, Any]]:
    """The coverage JSON of a subscriptions() row."""
    value: list[dict[str, Any]] = row["coverage"]
    return value


async def set_seller(conn: Connection, name: str, tax_id: str, address: str) -> None:
    """Set the provider's details copied onto invoices generated from now on."""
    await conn.execute(
        "UPDATE billing_seller SET name = $1, tax_id = $2, address = $3", name, tax_id, address
    )
