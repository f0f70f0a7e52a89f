"""Quarterly and yearly plans, billed monthly or per calendar term in advance (worked by hand,
docs/billing.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.models import Coverage, Period, Plan, SlaTier, Tier
from billing.pricing import Terms, price_subscription, recurring_line
from billing.terms import Term

OCT, NOV, DEC = Period(2026, 10), Period(2026, 11), Period(2026, 12)


def plan(price: int, interval: str, monthly: bool = False, **kw: object) -> Plan:
    return Plan(
        "p",
        "P",
        "flat",
        (Tier(None, Decimal(price)),),
        interval=interval,
        bill_charges_monthly=monthly,
        **kw,  # type: ignore[arg-type]
    )


def sub(p: Plan, *covs: Coverage, start: date = date(2026, 10, 1)) -> Terms:
    return Terms(1, p, start, coverages=covs)


def amount(t: Terms, period: Period, billed: int = 0) -> int | None:
    line = recurring_line(t, period, billed)
    return None if line is None else line.amount


def test_terms_are_calendar_quarters_and_years() -> None:
    q4 = Term.of(NOV, "quarter")
    assert (q4.label, q4.first, q4.next_first, q4.days) == (
        "2026-Q4",
        date(2026, 10, 1),
        date(2027, 1, 1),
        92,
    )
    assert Term.of(Period(2026, 2), "quarter").label == "2026-Q1"
    assert (Term.of(NOV, "year").label, Term.of(NOV, "year").days) == ("2026", 365)
    assert Term.of(Period(2028, 5), "year").days == 366


def test_a_yearly_price_charged_monthly() -> None:
    yearly = plan(360000, "year", monthly=True)  # 3600.00 per device-year
    # November, whole month: 3600.00 / 12 = 300.00; from Nov 21: 10/30 of it
    assert amount(sub(yearly, Coverage("r1", date(2026, 10, 1))), NOV) == 30000
    assert (
        amount(sub(yearly, Coverage("r1", date(2026, 11, 21)), start=date(2026, 11, 21)), NOV)
        == 10000
    )


def test_a_quarter_in_advance_with_changes_mid_term() -> None:
    quarterly = plan(90000, "quarter")  # 900.00 per device-quarter, Q4 2026 has 92 days
    one = sub(quarterly, Coverage("r1", date(2026, 10, 1)))
    assert amount(one, OCT) == 90000  # the whole quarter on October's invoice
    line = recurring_line(one, NOV, 90000)
    assert line is not None and line.amount == 0 and line.detail["term"] == "2026-Q4"
    # r2 joins on Nov 16: 46 more device-days (Nov 16..Dec 31): 90000 x 138 / 92 = 135000
    two = sub(quarterly, Coverage("r1", date(2026, 10, 1)), Coverage("r2", date(2026, 11, 16)))
    assert amount(two, NOV, 90000) == 45000
    # r1 leaves on Dec 1: 61 + 46 = 107 device-days: 90000 x 107 / 92 = 104673.91 -> 104674,
    # billed 135000 before: a credit of 30326 (31 unused days of r1)
    left = sub(
        quarterly,
        Coverage("r1", date(2026, 10, 1), date(2026, 12, 1)),
        Coverage("r2", date(2026, 11, 16)),
    )
    assert amount(left, DEC, 135000) == -30326
    # a subscription starting mid-term pays the term's remaining days: Nov 10..Dec 31 = 52
    late = sub(quarterly, Coverage("r1", date(2026, 11, 10)), start=date(2026, 11, 10))
    assert amount(late, NOV) == 50870  # 90000 x 52 / 92 = 50869.57


def test_a_year_in_advance_and_its_sla_credit_on_the_month_share() -> None:
    yearly = plan(360000, "year")
    one = sub(yearly, Coverage("r1", date(2026, 1, 1)), start=date(2026, 1, 1))
    assert amount(one, Period(2026, 1)) == 360000
    sla = plan(
        90000,
        "quarter",
        sla_target=Decimal("99.5"),
        sla_tiers=(SlaTier(Decimal("99.5"), Decimal(10)),),
    )
    lines = price_subscription(
        sub(sla, Coverage("r1", date(2026, 10, 1))), NOV, {}, Decimal(99), None, 90000
    )
    # November's share of the quarter: 90000 x 30 / 92 = 29347.83 -> 29348; 10 % = 2934.8
    assert [(ln.kind, ln.amount) for ln in lines] == [("recurring", 0), ("sla_credit", -2935)]
