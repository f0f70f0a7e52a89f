"""What a work order costs the customer (pure): labour, travel, parts, visits, SLA credits.

Amounts are fen; each line is rounded half-up once (credits are whole fen by construction).
Covered work is written as an included line of 0.00 so the invoice shows it was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from fieldservice.sla import ClockName

LABOUR_VAT = Decimal("0.06")  # modern services
PARTS_VAT = Decimal("0.13")  # goods


class Item(StrEnum):
    """What a line is for."""

    LABOUR = "labour"
    TRAVEL = "travel"
    PART = "part"
    VISIT = "visit"
    RESPONSE_CREDIT = "response_credit"
    RESOLUTION_CREDIT = "resolution_credit"


@dataclass(frozen=True, kw_only=True)
class CreditTier:
    """A breach of `clock` longer than `over_minutes` business minutes credits `amount` fen."""

    clock: ClockName
    over_minutes: int
    amount: int

    def __post_init__(self) -> None:
        if self.over_minutes < 0 or self.amount <= 0:
            raise ValueError("a credit tier needs over_minutes >= 0 and a positive amount")


@dataclass(frozen=True, kw_only=True)
class Pricing:
    """A contract's prices (fen) and what it covers."""

    labour_rate: int = 0
    travel_rate: int = 0
    visit_price: int = 0
    included_visits: int = 0
    labour_covered: bool = False
    parts_covered: bool = False
    labour_vat: Decimal = LABOUR_VAT
    parts_vat: Decimal = PARTS_VAT
    credit_tiers: tuple[CreditTier, ...] = ()

    def __post_init__(self) -> None:
        if min(self.labour_rate, self.travel_rate, self.visit_price, self.included_visits) < 0:
            raise ValueError("prices and included visits must not be negative")


@dataclass(frozen=True, kw_only=True)
class PartUse:
    """Parts used: a price-list number, a quantity and the price at the time of use."""

    part_no: str
    description: str
    quantity: Decimal
    unit_price: int


@dataclass(frozen=True, kw_only=True)
class OrderWork:
    """What one completed work order did, and its SLA breaches in business minutes."""

    number: str
    work_minutes: int = 0
    travel_minutes: int = 0
    parts: tuple[PartUse, ...] = ()
    visit: bool = False
    visits_before: int = 0
    response_breach: float = 0.0
    resolution_breach: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Charge:
    """One invoice line of a work order (negative amount = credit)."""

    work_order: str
    item: Item
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: int
    vat_rate: Decimal
    included: bool = False


def round_fen(value: Decimal) -> int:
    """Half-up to a whole fen."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _hours(n: str, item: Item, minutes: int, rate: int, covered: bool, vat: Decimal) -> Charge:
    hours = Decimal(minutes) / 60
    price = Decimal(0) if covered else Decimal(rate)
    label = f"{n} {item.value} {hours.normalize():f} h"
    return Charge(
        work_order=n,
        item=item,
        description=label + (" (included)" if covered else f" × {Decimal(rate) / 100:.2f}"),
        quantity=hours,
        unit_price=price,
        amount=round_fen(hours * price),
        vat_rate=vat,
        included=covered,
    )


def _part(n: str, p: PartUse, covered: bool, vat: Decimal) -> Charge:
    price = Decimal(0) if covered else Decimal(p.unit_price)
    tail = " (included)" if covered else f" × {Decimal(p.unit_price) / 100:.2f}"
    return Charge(
        work_order=n,
        item=Item.PART,
        description=f"{n} part {p.part_no} {p.description} {p.quantity.normalize():f}{tail}",
        quantity=p.quantity,
        unit_price=price,
        amount=round_fen(p.quantity * price),
        vat_rate=vat,
        included=covered,
    )


def _visit(w: OrderWork, pr: Pricing) -> Charge:
    number = w.visits_before + 1
    covered = number <= pr.included_visits
    price = 0 if covered else pr.visit_price
    return Charge(
        work_order=w.number,
        item=Item.VISIT,
        description=f"{w.number} on-site visit {number} of the year "
        f"({pr.included_visits} included)",
        quantity=Decimal(1),
        unit_price=Decimal(price),
        amount=price,
        vat_rate=pr.labour_vat,
        included=covered,
    )


def credit_for(tiers: tuple[CreditTier, ...], clock: ClockName, breach: float) -> int:
    """The most severe tier the breach exceeds (0 when none)."""
    hits = [t for t in tiers if t.clock is clock and breach > t.over_minutes]
    return max((t.amount for t in hits), default=0)


def _credit(w: OrderWork, pr: Pricing, clock: ClockName, breach: float) -> Charge | None:
    amount = credit_for(pr.credit_tiers, clock, breach)
    if amount == 0:
        return None
    item = Item.RESPONSE_CREDIT if clock is ClockName.RESPONSE else Item.RESOLUTION_CREDIT
    return Charge(
        work_order=w.number,
        item=item,
        description=f"{w.number} {clock.value} SLA missed by {breach:g} business minutes",
        quantity=Decimal(1),
        unit_price=None,
        amount=-amount,
        vat_rate=pr.labour_vat,
    )


def charges(w: OrderWork, pr: Pricing) -> list[Charge]:
    """Every line of one work order, in a fixed order."""
    n = w.number
    out: list[Charge] = []
    if w.work_minutes:
        out.append(
            _hours(n, Item.LABOUR, w.work_minutes, pr.labour_rate, pr.labour_covered, pr.labour_vat)
        )
    if w.travel_minutes:
        out.append(
            _hours(
                n, Item.TRAVEL, w.travel_minutes, pr.travel_rate, pr.labour_covered, pr.labour_vat
            )
        )
    out += [_part(n, p, pr.parts_covered, pr.parts_vat) for p in w.parts]
    if w.visit:
        out.append(_visit(w, pr))
    for clock, breach in (
        (ClockName.RESPONSE, w.response_breach),
        (ClockName.RESOLUTION, w.resolution_breach),
    ):
        credit = _credit(w, pr, clock, breach)
        if credit is not None:
            out.append(credit)
    return out
