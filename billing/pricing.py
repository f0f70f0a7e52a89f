"""Pure pricing: proration by covered days, usage with pooled allowance, fees, minimum, SLA, VAT."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from billing.charge_models import charge_model
from billing.models import Coverage, Line, Period, Plan, UsagePrice, round_fen
from billing.money import format_money
from billing.terms import INTERVAL_MONTHS, Term

# A month, or a calendar quarter or year (anything with `first` and `days`).
Span = Period | Term


@dataclass(frozen=True, slots=True)
class Terms:
    """A subscription as pricing sees it: plan, dates, trial and covered devices."""

    id: int
    plan: Plan
    start: date
    end: date | None = None
    trial_days: int = 0
    coverages: tuple[Coverage, ...] = ()
    # a plan change: the devices it took over were installed under the replaced subscription
    replaces: bool = False

    @property
    def trial_end(self) -> date:
        """First day that is charged."""
        return self.start + timedelta(days=self.trial_days)


def _clip(lo: date, hi: date | None, period: Span) -> tuple[int, int]:
    """Day indexes [a, b) of the period covered by dates [lo, hi)."""
    a = max((lo - period.first).days, 0)
    b = period.days if hi is None else min((hi - period.first).days, period.days)
    return a, max(a, b)


def daily_counts(terms: Terms, period: Span, *, charged: bool) -> list[int]:
    """Devices covered on each day of the period (charged=True leaves out trial days)."""
    diff = [0] * (period.days + 1)
    first_day = terms.trial_end if charged else terms.start
    for cov in terms.coverages:
        lo = max(cov.start, first_day)
        ends = [d for d in (cov.end, terms.end) if d is not None]
        hi = min(ends) if ends else None
        a, b = _clip(lo, hi, period)
        diff[a] += 1
        diff[b] -= 1
    counts, running = [], 0
    for step in diff[:-1]:
        running += step
        counts.append(running)
    return counts


def active_days(terms: Terms, period: Period) -> int:
    """Charged days of the subscription itself in the period (after the trial)."""
    a, b = _clip(max(terms.start, terms.trial_end), terms.end, period)
    return b - a


def recurring_line(terms: Terms, period: Period, billed_term: int = 0) -> Line | None:
    """The month's recurring charge: sum over days of price(devices that day) / days, rounded
    once; a quarterly or yearly plan charges a share of its price, or bills its term in
    advance (`billed_term`: what issued invoices of earlier months already charged for it)."""
    months = INTERVAL_MONTHS[terms.plan.interval]
    if months > 1 and not terms.plan.bill_charges_monthly:
        return _advance_line(terms, period, billed_term)
    priced = _priced_days(terms, period)
    if priced is None:
        return None
    total, device_days, rows = priced
    share = f" at 1/{months} of the {terms.plan.interval}ly price" if months > 1 else ""
    return Line(
        "recurring",
        f"{terms.plan.name} ({terms.plan.pricing_model}): {device_days} device-days / "
        f"{period.days} days{share}",
        round_fen(total / period.days / months),
        terms.plan.vat_rate,
        quantity=Decimal(device_days),
        subscription_id=terms.id,
        detail={"days_in_month": period.days, "device_days": device_days, "by_count": rows},
    )


def _priced_days(terms: Terms, span: Span) -> tuple[Decimal, int, list[dict[str, object]]] | None:
    """Sum of the interval price of each day's device count over a span, the device-days,
    and the counts with their tiers; None when no device is charged in it."""
    plan, model = terms.plan, charge_model(terms.plan.pricing_model)
    by_count = Counter(c for c in daily_counts(terms, span, charged=True) if c)
    if not by_count:
        return None
    total = sum((model.monthly_price(c, plan.tiers) * n for c, n in by_count.items()), Decimal(0))
    rows: list[dict[str, object]] = [
        {
            "devices": c,
            "days": n,
            "monthly_price": str(model.monthly_price(c, plan.tiers)),
            "tiers": model.describe(c, plan.tiers),
        }
        for c, n in sorted(by_count.items())
    ]
    return total, sum(c * n for c, n in by_count.items()), rows


def _advance_line(terms: Terms, period: Period, billed_term: int) -> Line | None:
    """The whole calendar term charged in advance, less what was billed for it before."""
    term = Term.of(period, terms.plan.interval)
    priced = _priced_days(terms, term)
    if priced is None and not billed_term:
        return None
    total, device_days, rows = priced or (Decimal(0), 0, [])
    charge = round_fen(total / term.days)
    month = _priced_days(terms, period)
    detail: dict[str, object] = {
        "term": term.label,
        "term_days": term.days,
        "device_days": device_days,
        "term_charge": charge,
        "billed_before": billed_term,
        # this month's part of the term charge (the base of an SLA credit)
        "month_share": round_fen(month[0] / term.days) if month else 0,
        "by_count": rows,
    }
    before = f", {billed_term} billed before" if billed_term else ""
    return Line(
        "recurring",
        f"{terms.plan.name} ({terms.plan.pricing_model}, {terms.plan.interval}ly in advance) "
        f"{term.label}: {device_days} device-days / {term.days} days{before}",
        charge - billed_term,
        terms.plan.vat_rate,
        quantity=Decimal(device_days),
        subscription_id=terms.id,
        detail=detail,
    )


def included_units(price: UsagePrice, device_days: int, days_in_month: int) -> int:
    """The pooled allowance: floor(included per device x device-days / days in month)."""
    return price.included_per_device * device_days // days_in_month


def billable_units(used: int, included: int) -> int:
    """Units above the allowance."""
    return max(0, used - included)


def usage_lines(terms: Terms, period: Period, used: dict[str, int]) -> list[Line]:
    """One line per priced usage type with usage; zero-amount lines record what was counted."""
    device_days = sum(daily_counts(terms, period, charged=False))
    lines = []
    for price in terms.plan.usage:
        n = used.get(price.usage_type, 0)
        if n == 0:
            continue
        included = included_units(price, device_days, period.days)
        units = billable_units(n, included)
        kind = "overage" if price.included_per_device else "usage"
        label = price.description or price.usage_type
        lines.append(
            Line(
                kind,
                f"{label}: {n} used, {included} included, {units} billable",
                round_fen(units * price.unit_price),
                terms.plan.vat_rate,
                quantity=Decimal(units),
                unit_price=price.unit_price,
                subscription_id=terms.id,
                usage_type=price.usage_type,
                usage_period=str(period),
                usage_quantity=n,
                detail={"used": n, "included": included, "device_days": device_days},
            )
        )
    return lines


def one_off_lines(terms: Terms, period: Period) -> list[Line]:
    """Contract fees in the start month; per-device fees for each device joining this month.

    A subscription that replaces another (upgrade or downgrade) charges neither for the
    contract nor for the devices it took over on its first day."""
    joins = sum(
        1
        for c in terms.coverages
        if Period.of(c.start) == period and not (terms.replaces and c.start == terms.start)
    )
    new_contract = Period.of(terms.start) == period and not terms.replaces
    lines = []
    for fee in terms.plan.one_off_fees:
        qty = joins if fee.per_device else int(new_contract)
        if qty:
            lines.append(
                Line(
                    "one_off",
                    f"{fee.name} x {qty}",
                    fee.amount * qty,
                    terms.plan.vat_rate,
                    quantity=Decimal(qty),
                    unit_price=Decimal(fee.amount),
                    subscription_id=terms.id,
                )
            )
    return lines


def minimum_line(terms: Terms, period: Period, service_lines: list[Line]) -> Line | None:
    """Top up recurring + usage to the minimum commitment, prorated by charged days."""
    plan = terms.plan
    days = active_days(terms, period)
    if not plan.minimum_commitment or not days:
        return None
    minimum = round_fen(Decimal(plan.minimum_commitment) * days / period.days)
    spent = sum(ln.amount for ln in service_lines)
    if spent >= minimum:
        return None
    return Line(
        "minimum",
        f"Minimum commitment top-up ({days}/{period.days} days of "
        f"{format_money(plan.minimum_commitment, plan.currency)})",
        minimum - spent,
        plan.vat_rate,
        subscription_id=terms.id,
        detail={"minimum": minimum, "billed": spent},
    )


def sla_credit_percent(plan: Plan, availability: Decimal) -> Decimal | None:
    """The credit of the most severe tier whose threshold lies above the availability."""
    hits = [t.credit for t in plan.sla_tiers if availability < t.below]
    return max(hits) if hits else None


def sla_line(
    terms: Terms,
    availability: Decimal | None,
    recurring: Line | None,
    until: datetime | None = None,
) -> Line | None:
    """A negative line crediting a share of the recurring charge when availability misses.

    `until`: the month is still running and availability was measured up to then only."""
    if availability is None or recurring is None:
        return None
    percent = sla_credit_percent(terms.plan, availability)
    if percent is None:
        return None
    shown = availability.quantize(Decimal("0.001"))
    detail: dict[str, object] = {"availability": str(shown), "credit_percent": str(percent)}
    so_far = ""
    if until is not None:
        detail["measured_until"] = until.isoformat()
        so_far = f" (provisional: measured up to {until:%Y-%m-%d %H:%M} UTC)"
    return Line(
        "sla_credit",
        f"SLA credit: availability {shown} % below target {terms.plan.sla_target} %: "
        f"{percent} % credit{so_far}",
        -round_fen(_credit_base(recurring) * percent / 100),
        terms.plan.vat_rate,
        subscription_id=terms.id,
        detail=detail,
    )


def _credit_base(recurring: Line) -> Decimal:
    """What an SLA credit is a share of: the recurring charge of the month (for a term billed
    in advance, the month's part of the term charge)."""
    return Decimal(str(recurring.detail.get("month_share", recurring.amount)))


def price_subscription(
    terms: Terms,
    period: Period,
    used: dict[str, int],
    availability: Decimal | None = None,
    until: datetime | None = None,
    billed_term: int = 0,
) -> list[Line]:
    """Every line one subscription contributes to the period's invoice (`until`: a running
    month, measured up to then; `billed_term`: see recurring_line)."""
    recurring = recurring_line(terms, period, billed_term)
    service = ([recurring] if recurring else []) + usage_lines(terms, period, used)
    lines = service + one_off_lines(terms, period)
    top_up = minimum_line(terms, period, service)
    credit = sla_line(terms, availability, recurring, until)
    return lines + [ln for ln in (top_up, credit) if ln is not None]
