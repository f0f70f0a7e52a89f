"""Gather a period's pricing inputs from the database and price every subscription."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from billing import invoice_repository as inv_repo
from billing import usage
from billing.invoice_math import late_usage_line
from billing.models import Coverage, Line, Period, Plan
from billing.pricing import Terms, daily_counts, included_units, price_subscription
from servitize.db import Connection

# How many earlier months are checked for usage that arrived after their invoice was issued.
LATE_LOOKBACK_MONTHS = 3


@dataclass(slots=True)
class Bill:
    """Everything one tenant's invoice for a period needs."""

    tenant_id: str
    buyer: dict[str, Any]
    currency: str
    lines: list[Line] = field(default_factory=list)
    plan_of: dict[int, str] = field(default_factory=dict)


def terms_of(row: Any, plan: Plan) -> Terms:
    """Pricing terms from a period_subscriptions row."""
    covs = tuple(
        Coverage(d, s, e)
        for d, s, e in zip(row["devices"], row["starts"], row["ends"], strict=True)
    )
    return Terms(
        row["id"],
        plan,
        row["start_date"],
        row["end_date"],
        row["trial_days"],
        covs,
        replaces=row["replaces"] is not None,
    )


def _bill(bills: dict[str, Bill], row: Any, plan: Plan) -> Bill:
    bill = bills.get(row["tenant_id"])
    if bill is None:
        buyer = {"name": row["tenant_name"], "tax_id": row["tax_id"], "address": row["address"]}
        bill = bills[row["tenant_id"]] = Bill(row["tenant_id"], buyer, plan.currency)
    bill.plan_of[row["id"]] = plan.id
    return bill


def _usage_types(plans: dict[str, Plan]) -> list[str]:
    return sorted({u.usage_type for p in plans.values() for u in p.usage})


async def collect(
    conn: Connection, period: Period, tenant_ids: list[str] | None, plans: dict[str, Plan]
) -> dict[str, Bill]:
    """Price every subscription of the period, plus late usage of earlier issued months."""
    rows = await usage.period_subscriptions(conn, period.first, period.next_first, tenant_ids)
    used = await usage.usage_counts(
        conn, period.first, period.next_first, tenant_ids, _usage_types(plans)
    )
    sla = await _availability(conn, period, tenant_ids, rows, plans)
    bills: dict[str, Bill] = {}
    for row in rows:
        plan = plans[row["plan_id"]]
        counts = {u.usage_type: used.get((row["id"], u.usage_type), 0) for u in plan.usage}
        lines = price_subscription(terms_of(row, plan), period, counts, sla.get(row["id"]))
        _bill(bills, row, plan).lines.extend(lines)
    await _late_usage(conn, period, tenant_ids, plans, bills)
    return bills


async def _availability(
    conn: Connection,
    period: Period,
    tenant_ids: list[str] | None,
    rows: list[Any],
    plans: dict[str, Plan],
) -> dict[int, Decimal]:
    """Measured availability in percent for subscriptions whose plan has SLA tiers."""
    sub_ids = [r["id"] for r in rows if plans[r["plan_id"]].sla_tiers]
    if not sub_ids:
        return {}
    # a day either side covers the period's bounds in every time zone
    start, end = period.bounds("UTC")
    windows = await usage.maintenance_windows(
        conn, start - timedelta(days=1), end + timedelta(days=1), tenant_ids
    )
    found = await usage.availability(
        conn, period.first, period.next_first, tenant_ids, sub_ids, windows
    )
    return {s: Decimal(up) * 100 / Decimal(n) for s, (up, n) in found.items() if n > 0}


async def _late_usage(
    conn: Connection,
    period: Period,
    tenant_ids: list[str] | None,
    plans: dict[str, Plan],
    bills: dict[str, Bill],
) -> None:
    """Bill usage of issued months that arrived after their invoice, naming the month."""
    earlier = [period.previous()]
    for _ in range(LATE_LOOKBACK_MONTHS - 1):
        earlier.append(earlier[-1].previous())
    issued = await inv_repo.issued_tenants(conn, [str(p) for p in earlier], tenant_ids)
    for past in reversed(earlier):
        tenants = sorted(t for t, p in issued if p == str(past))
        if tenants:
            await _late_for(conn, past, tenants, plans, bills)


async def _late_for(
    conn: Connection,
    past: Period,
    tenants: list[str],
    plans: dict[str, Plan],
    bills: dict[str, Bill],
) -> None:
    rows = await usage.period_subscriptions(conn, past.first, past.next_first, tenants)
    measured = await usage.usage_counts(
        conn, past.first, past.next_first, tenants, _usage_types(plans)
    )
    billed = await inv_repo.billed_usage(conn, str(past), [r["id"] for r in rows])
    for row in rows:
        plan = plans[row["plan_id"]]
        device_days = sum(daily_counts(terms_of(row, plan), past, charged=False))
        for price in plan.usage:
            key = (row["id"], price.usage_type)
            line = late_usage_line(
                price,
                plan.vat_rate,
                period=str(past),
                billed=billed.get(key, 0),
                measured=measured.get(key, 0),
                included=included_units(price, device_days, past.days),
                subscription_id=row["id"],
            )
            if line is not None:
                _bill(bills, row, plan).lines.append(line)
