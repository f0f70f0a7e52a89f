"""The docs/billing.md field-service worked example, to the fen."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.invoice_math import totals
from billing.models import Line
from fieldservice.charges import CreditTier, Item, OrderWork, PartUse, Pricing, charges, credit_for
from fieldservice.sla import ClockName, Step, clocks, deadlines
from fieldservice.states import HoldReason, State
from fieldservice.workcalendar import BusinessCalendar

SH = ZoneInfo("Asia/Shanghai")
R, S = ClockName.RESPONSE, ClockName.RESOLUTION
PRICING = Pricing(
    labour_rate=18550,
    travel_rate=12033,
    visit_price=35000,
    included_visits=2,
    credit_tiers=(
        CreditTier(clock=R, over_minutes=0, amount=20000),
        CreditTier(clock=R, over_minutes=120, amount=50000),
        CreditTier(clock=S, over_minutes=0, amount=30000),
        CreditTier(clock=S, over_minutes=240, amount=80000),
    ),
)
PARTS = (
    PartUse(part_no="BRG-6204", description="bearing", quantity=Decimal(2), unit_price=8640),
    PartUse(part_no="SEAL-KIT", description="seal kit", quantity=Decimal(1), unit_price=4599),
)


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=SH)


def _breaches() -> tuple[float, float]:
    cal = BusinessCalendar(holidays=frozenset({date(2026, 6, 19)}))
    d = deadlines(cal, sh(18, 16), 240, 960)
    hist = [
        Step(at=sh(22, 14, 30), to=State.ACCEPTED),
        Step(at=sh(22, 15), to=State.IN_PROGRESS),
        Step(at=sh(22, 16), to=State.ON_HOLD, hold=HoldReason.AWAITING_CUSTOMER),
        Step(at=sh(23, 10), to=State.IN_PROGRESS),
        Step(at=sh(23, 17, 30), to=State.COMPLETED),
    ]
    response, resolution = clocks(cal, d, hist, now=sh(30, 0))
    return response.breach_minutes, resolution.breach_minutes


def _work() -> OrderWork:
    response, resolution = _breaches()
    return OrderWork(
        number="WO-2026-000001",
        work_minutes=510,
        travel_minutes=30,
        parts=PARTS,
        visit=True,
        visits_before=2,
        response_breach=response,
        resolution_breach=resolution,
    )


def test_worked_example_lines_to_the_fen() -> None:
    lines = charges(_work(), PRICING)
    got = [(c.item, c.amount, str(c.vat_rate)) for c in lines]
    assert got == [
        (Item.LABOUR, 157675, "0.06"),  # 8.5 h × 185.50
        (Item.TRAVEL, 6017, "0.06"),  # 0.5 h × 120.33 = 60.165 -> 60.17
        (Item.PART, 17280, "0.13"),
        (Item.PART, 4599, "0.13"),
        (Item.VISIT, 35000, "0.06"),  # third visit of the year, two included
        (Item.RESPONSE_CREDIT, -50000, "0.06"),  # 210 min late > 120
        (Item.RESOLUTION_CREDIT, -30000, "0.06"),  # 30 min late > 0
    ]
    assert all("WO-2026-000001" in c.description for c in lines)
    t = totals([Line("one_off", c.description, c.amount, c.vat_rate) for c in lines])
    assert (t.subtotal, t.vat_by_rate, t.total) == (
        140571,
        {"0.06": 7122, "0.13": 2844},
        150537,
    )


def test_covered_labour_and_parts_show_as_included_zero_lines() -> None:
    pr = Pricing(labour_rate=18550, labour_covered=True, parts_covered=True, included_visits=5)
    lines = charges(_work(), pr)
    assert [c.amount for c in lines] == [0, 0, 0, 0, 0]
    assert all(c.included for c in lines)
    assert "(included)" in lines[0].description


def test_credit_takes_the_most_severe_tier_only() -> None:
    tiers = PRICING.credit_tiers
    assert credit_for(tiers, R, 0) == 0
    assert credit_for(tiers, R, 120) == 20000
    assert credit_for(tiers, R, 120.5) == 50000
    assert credit_for(tiers, S, 241) == 80000
