"""Coupons: pure discount lines, and the catalog of coupons and their redemptions.

A coupon takes a percentage or a fixed amount off a month's service charges (every line but
one-off fees), for `duration_months` months from the month it was first applied (None: for
ever). The discount is one negative line per VAT rate, so VAT is reduced at the right rate;
it never exceeds the charges it applies to.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from billing.models import Line, Period, round_fen
from billing.money import format_money

NOT_DISCOUNTED = ("one_off", "discount")


@dataclass(frozen=True, slots=True)
class Coupon:
    """A redeemed coupon: code, percent or amount (minor units) off, months, first month."""

    code: str
    name: str
    first_period: Period
    percent_off: Decimal | None = None
    amount_off: int | None = None
    currency: str | None = None
    duration_months: int | None = None

    def active(self, period: Period) -> bool:
        """Whether the coupon applies to a month."""
        months = (
            (period.year - self.first_period.year) * 12 + period.month - self.first_period.month
        )
        return months >= 0 and (self.duration_months is None or months < self.duration_months)


def discount_lines(
    lines: list[Line], coupons: list[Coupon], period: Period, currency: str
) -> list[Line]:
    """The discount lines of a tenant's month, coupon by coupon (each on what is left)."""
    base: dict[Decimal, int] = defaultdict(int)
    for ln in lines:
        if ln.kind not in NOT_DISCOUNTED:
            base[ln.vat_rate] += ln.amount
    out: list[Line] = []
    for coupon in sorted(coupons, key=lambda c: c.code):
        if not coupon.active(period) or coupon.currency not in (None, currency):
            continue
        for rate, off in _off(coupon, base).items():
            base[rate] -= off
            out.append(_line(coupon, rate, off, currency))
    return out


def _off(coupon: Coupon, base: dict[Decimal, int]) -> dict[Decimal, int]:
    """Minor units off per rate: percent of each rate's base, or the amount spread over the
    rates from the largest base down, never below zero."""
    positive = {r: b for r, b in base.items() if b > 0}
    if coupon.percent_off is not None:
        return {r: round_fen(b * coupon.percent_off / 100) for r, b in positive.items()}
    left, out = coupon.amount_off or 0, {}
    for rate, b in sorted(positive.items(), key=lambda rb: (-rb[1], rb[0])):
        out[rate], left = min(b, left), left - min(b, left)
    return {r: v for r, v in out.items() if v}


def _line(coupon: Coupon, rate: Decimal, off: int, currency: str) -> Line:
    what = (
        f"{coupon.percent_off.normalize():f} % off"
        if coupon.percent_off is not None
        else f"{format_money(coupon.amount_off or 0, currency)} off"
    )
    return Line(
        "discount",
        f"Coupon {coupon.code} ({coupon.name}): {what}",
        -off,
        rate,
        detail={"coupon": coupon.code, "first_period": str(coupon.first_period)},
    )
