"""Invoice totals (VAT once per rate), late-usage lines and the content hash."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from billing.models import Line, UsagePrice, round_fen
from billing.pricing import billable_units


@dataclass(frozen=True, slots=True)
class Totals:
    """subtotal = sum of lines; VAT rounded once per rate; total = subtotal + VAT (fen)."""

    subtotal: int
    vat: int
    total: int
    vat_by_rate: dict[str, int]


def totals(lines: list[Line]) -> Totals:
    """Sum the rounded lines, then VAT per rate on the summed lines, rounded half-up once."""
    by_rate: dict[Decimal, int] = defaultdict(int)
    for line in lines:
        by_rate[line.vat_rate] += line.amount
    vat_by_rate = {str(rate): _vat(base, rate) for rate, base in sorted(by_rate.items())}
    subtotal = sum(by_rate.values())
    vat = sum(vat_by_rate.values())
    return Totals(subtotal, vat, subtotal + vat, vat_by_rate)


def _vat(base: int, rate: Decimal) -> int:
    """VAT of a base, half away from zero so a credit's VAT mirrors a charge's."""
    value = Decimal(base) * rate
    return round_fen(value) if value >= 0 else -round_fen(-value)


def late_usage_line(
    price: UsagePrice,
    vat_rate: Decimal,
    *,
    period: str,
    billed: int,
    measured: int,
    included: int,
    subscription_id: int,
) -> Line | None:
    """Charge usage of an already-invoiced period that arrived after its invoice was issued."""
    late = measured - billed
    if late <= 0:
        return None
    before = billable_units(billed, included)
    after = billable_units(measured, included)
    return Line(
        "late_usage",
        f"Late {price.description or price.usage_type} from {period}: {late} more "
        f"({measured} used, {included} included)",
        round_fen((after - before) * price.unit_price),
        vat_rate,
        quantity=Decimal(after - before),
        unit_price=price.unit_price,
        subscription_id=subscription_id,
        usage_type=price.usage_type,
        usage_period=period,
        usage_quantity=late,
        detail={"used": measured, "previously_billed": billed, "included": included},
    )


def content_hash(header: dict[str, object], lines: list[dict[str, object]]) -> str:
    """SHA-256 over a canonical JSON of the invoice header and its lines."""
    blob = json.dumps({"invoice": header, "lines": lines}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Credited:
    """Per VAT rate: the base (sum of lines) and VAT, of an invoice or of its credit notes."""

    base: dict[Decimal, int]
    vat: dict[Decimal, int]

    @property
    def total(self) -> int:
        return sum(self.base.values()) + sum(self.vat.values())


def credit_note_totals(
    invoice: Credited,
    before: Credited,
    note: dict[Decimal, int],
    show: Callable[[int], str] = str,
) -> Totals:
    """Totals of a new credit note of `note` (base per rate), capped by what is left.

    Per rate, the credited base may not exceed the invoice's base and the credited VAT is
    rounded once on the cumulative credited base (so three notes of 25 against 75 + 5 VAT
    carry VAT 2, 1, 2: never more than the invoice's 5); the total stays within the invoice's.
    """
    vat_by_rate: dict[str, int] = {}
    for rate, amount in sorted(note.items()):
        base_after = before.base.get(rate, 0) + amount
        if base_after > invoice.base.get(rate, 0):
            left = invoice.base.get(rate, 0) - before.base.get(rate, 0)
            raise ValueError(
                f"credit at VAT {(rate * 100).normalize():f} % exceeds what is left to credit "
                f"at that rate: {show(max(left, 0))} of {show(invoice.base.get(rate, 0))}"
            )
        vat_after = min(_vat(base_after, rate), invoice.vat.get(rate, 0))
        vat_by_rate[str(rate)] = max(0, vat_after - before.vat.get(rate, 0))
    subtotal, vat = sum(note.values()), sum(vat_by_rate.values())
    if before.total + subtotal + vat > invoice.total:
        raise ValueError("credit notes would exceed the invoice's total")
    return Totals(subtotal, vat, subtotal + vat, vat_by_rate)


def line_vats(lines: list[tuple[int, Decimal]], vat_by_rate: dict[Decimal, int]) -> list[int]:
    """Each line's share of its rate's VAT (which is rounded once per rate): the exact shares
    rounded down, the remaining minor units to the largest remainders, so they add up."""
    shares = [Decimal(amount) * rate for amount, rate in lines]
    out = [int(s.to_integral_value(rounding=ROUND_FLOOR)) for s in shares]
    for rate, vat in vat_by_rate.items():
        idx = [i for i, (_, r) in enumerate(lines) if r == rate]
        left = vat - sum(out[i] for i in idx)
        step = 1 if left >= 0 else -1
        order = sorted(idx, key=lambda i: shares[i] - out[i], reverse=step > 0)
        for n in range(abs(left)):
            out[order[n % len(order)]] += step
    return out
