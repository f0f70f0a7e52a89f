"""Gather a period's pricing inputs from the database and price every subscription."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from billing import coupon_repository as coupon_repo
from billing import field_service, usage
from billing import invoice_repository as inv_repo
from billing.coupons import discount_lines
from billing.errors import BillingError
from billing.invoice_math import late_usage_line
from billing.models import Coverage, Line, Period, Plan
from billing.pricing import Terms, daily_counts, included_units, price_subscription
from billing.terms import Term
from servitize.db import Connection

# How many earlier months are checked for usage that arrived after their invoice was issued.
LATE_LOOKBACK_MONTHS = 3


@dataclass(slots=True)
class Bill:
    """Everything one tenant's invoice for a period needs."""

    tenant_id: str
    buyer: dict[str, Any]
    currency: str
    bounds: usage.Bounds | None = None
    lines: list[Line] = field(default_factory=list)
    plan_of: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class Collected:
    """The bills of a period and the tenants that could not be priced (tenant -> reason)."""

    bills: dict[str, Bill]
    failures: dict[str, str] = field(default_factory=dict)

    def fail(self, tenant_id: str, exc: Exception) -> None:
        """Drop a tenant's bill, keeping the first reason."""
        self.bills.pop(tenant_id, None)
        self.failures.setdefault(tenant_id, f"{type(exc).__name__}: {exc}")


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
    conn: Connection,
    period: Period,
    tenant_ids: list[str] | None,
    plans: dict[str, Plan],
    broken: dict[str, str] | None = None,
) -> Collected:
    """Price every subscription of the period, plus late usage of earlier issued months.

    A tenant whose pricing fails (a plan the arithmetic cannot take) is left out with its
    reason; every other tenant is billed."""
    rows = await usage.period_subscriptions(conn, period.first, period.next_first, tenant_ids)
    out = Collected({})
    for row in rows:
        if row["plan_id"] not in plans:
            out.fail(row["tenant_id"], BillingError((broken or {}).get(row["plan_id"], "no plan")))
    rows = [r for r in rows if r["tenant_id"] not in out.failures]
    used = await usage.usage_counts(
        conn, period.first, period.next_first, tenant_ids, _usage_types(plans)
    )
    sla = await _availability(conn, period, tenant_ids, rows, plans)
    bounds = await usage.period_bounds(conn, period.first, period.next_first, tenant_ids)
    billed = await _billed_terms(conn, period, rows, plans)
    for row in rows:
        if row["tenant_id"] in out.failures:
            continue
        plan, until = plans[row["plan_id"]], bounds[row["tenant_id"]].until
        counts = {u.usage_type: used.get((row["id"], u.usage_type), 0) for u in plan.usage}
        try:
            terms = terms_of(row, plan)
            lines = price_subscription(
                terms, period, counts, sla.get(row["id"]), until, billed.get(row["id"], 0)
            )
        except (ValueError, ArithmeticError) as exc:
            out.fail(row["tenant_id"], exc)
            continue
        _bill(out.bills, row, plan).lines.extend(lines)
    await _late_usage(conn, period, tenant_ids, plans, out)
    await field_service.add_lines(conn, period, tenant_ids, out.bills)
    coupons = await coupon_repo.redeemed(conn, tenant_ids)
    for tenant, bill in out.bills.items():
        bill.bounds = bounds[tenant]
        bill.lines.extend(
            discount_lines(bill.lines, coupons.get(tenant, []), period, bill.currency)
        )
    return out


async def _billed_terms(
    conn: Connection, period: Period, rows: list[Any], plans: dict[str, Plan]
) -> dict[int, int]:
    """What issued invoices already charged for the current term of subscriptions whose
    plan bills a quarter or year in advance."""
    ahead = [
        (r["id"], Term.of(period, plans[r["plan_id"]].interval).label)
        for r in rows
        if plans[r["plan_id"]].interval != "month" and not plans[r["plan_id"]].bill_charges_monthly
    ]
    return await inv_repo.billed_terms(conn, str(period), ahead) if ahead else {}


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
    out: Collected,
) -> None:
    """Bill usage of issued months that arrived after their invoice, naming the month."""
    earlier = [period.previous()]
    for _ in range(LATE_LOOKBACK_MONTHS - 1):
        earlier.append(earlier[-1].previous())
    issued = await inv_repo.issued_tenants(conn, [str(p) for p in earlier], tenant_ids)
    for past in reversed(earlier):
        tenants = sorted(t for t, p in issued if p == str(past))
        if tenants:
            await _late_for(conn, past, tenants, plans, out)


async def _late_for(
    conn: Connection,
    past: Period,
    tenants: list[str],
    plans: dict[str, Plan],
    out: Collected,
) -> None:
    rows = await usage.period_subscriptions(conn, past.first, past.next_first, tenants)
    measured = await usage.usage_counts(
        conn, past.first, past.next_first, tenants, _usage_types(plans)
    )
    billed = await inv_repo.billed_usage(conn, str(past), [r["id"] for r in rows])
    for row in rows:
        if row["tenant_id"] in out.failures or row["plan_id"] not in plans:
            continue
        plan = plans[row["plan_id"]]
        try:
            lines = _late_lines(row, plan, past, billed, measured)
        except (ValueError, ArithmeticError) as exc:
            out.fail(row["tenant_id"], exc)
            continue
        _bill(out.bills, row, plan).lines.extend(lines)


def _late_lines(
    row: Any,
    plan: Plan,
    past: Period,
    billed: dict[tuple[int, str], int],
    measured: dict[tuple[int, str], int],
) -> list[Line]:
    device_days = sum(daily_counts(terms_of(row, plan), past, charged=False))
    lines = []
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
            lines.append(line)
    return lines
