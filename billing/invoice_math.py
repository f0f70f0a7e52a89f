"""Invoice totals (VAT once per rate), late-usage lines and the content hash."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

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
