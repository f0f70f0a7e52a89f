"""Coupon discounts, worked by hand (docs/billing.md)."""

from __future__ import annotations

from decimal import Decimal

from billing.coupons import Coupon, discount_lines
from billing.invoice_math import totals
from billing.models import Line, Period

SIX, THIRTEEN = Decimal("0.06"), Decimal("0.13")
NOV = Period(2026, 11)


def ten_percent(months: int | None = 3) -> Coupon:
    return Coupon("WELCOME10", "Welcome", NOV, percent_off=Decimal(10), duration_months=months)


def test_percent_off_service_charges_per_rate_for_its_months() -> None:
    lines = [
        Line("recurring", "care", 30000, SIX),
        Line("sla_credit", "sla", -3000, SIX),
        Line("one_off", "installation", 200000, SIX),  # not discounted
        Line("recurring", "hardware care", 10005, THIRTEEN),
    ]
    off = discount_lines(lines, [ten_percent()], NOV, "CNY")
    # 10 % of (300.00 - 30.00) at 6 % = 27.00; 10 % of 100.05 at 13 % = 10.005 -> 10.01
    assert [(ln.kind, ln.amount, ln.vat_rate) for ln in off] == [
        ("discount", -2700, SIX),
        ("discount", -1001, THIRTEEN),
    ]
    t = totals(lines + off)
    # 6 %: 300 - 30 + 2000 - 27 = 2243.00 -> VAT 134.58; 13 %: 90.04 -> VAT 11.71 (11.7052)
    assert (t.subtotal, t.vat, t.total) == (233304, 13458 + 1171, 233304 + 13458 + 1171)
    assert discount_lines(lines, [ten_percent()], Period(2027, 2), "CNY") == []  # 4th month
    assert discount_lines(lines, [ten_percent(None)], Period(2030, 1), "CNY") != []  # for ever
    assert discount_lines(lines, [ten_percent()], Period(2026, 10), "CNY") == []  # not yet


def test_amount_off_is_capped_and_stacks_after_percent() -> None:
    lines = [Line("recurring", "care", 30000, SIX)]
    fifty = Coupon("FIFTY", "50 off", NOV, amount_off=5000, currency="CNY")
    huge = Coupon("HUGE", "all", NOV, amount_off=10**9, currency="CNY")
    # sorted by code: FIFTY 50.00 off 300.00, then WELCOME10 10 % of the 250.00 left
    off = discount_lines(lines, [ten_percent(), fifty], NOV, "CNY")
    assert [ln.amount for ln in off] == [-5000, -2500]
    assert [ln.amount for ln in discount_lines(lines, [huge], NOV, "CNY")] == [-30000]
    assert discount_lines(lines, [fifty], NOV, "JPY") == []  # another currency's coupon
