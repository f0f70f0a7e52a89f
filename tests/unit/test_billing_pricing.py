"""Worked pricing examples, computed by hand in the comments (see docs/billing.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.models import Coverage, OneOffFee, Period, Plan, SlaTier, Tier, UsagePrice
from billing.pricing import (
    Terms,
    daily_counts,
    minimum_line,
    one_off_lines,
    price_subscription,
    recurring_line,
    sla_credit_percent,
    usage_lines,
)

FLAT = Plan("flat", "Flat", "flat", (Tier(None, Decimal(30000)),))  # 300.00 CNY/device/month
TIERS = (Tier(10, Decimal(10000)), Tier(50, Decimal(8000)), Tier(None, Decimal(6000)))
INSPECTIONS = UsagePrice("inspection_completed", Decimal(500), included_per_device=60)
SLA = (
    SlaTier(Decimal("99.5"), Decimal(10)),
    SlaTier(Decimal(99), Decimal(25)),
    SlaTier(Decimal(95), Decimal(50)),
)
NOV, DEC = Period(2026, 11), Period(2026, 12)


def terms(plan: Plan, *covs: Coverage, start: date = date(2026, 1, 1), **kw: object) -> Terms:
    return Terms(1, plan, start, coverages=covs, **kw)  # type: ignore[arg-type]


def whole(n: int) -> list[Coverage]:
    return [Coverage(f"d{i}", date(2026, 1, 1)) for i in range(n)]


def recurring(t: Terms, period: Period) -> int:
    line = recurring_line(t, period)
    assert line is not None
    return line.amount


@pytest.mark.parametrize(
    ("period", "start", "expected"),
    [
        # February 2026 has 28 days: whole month 30000 x 28/28 = 30000
        (Period(2026, 2), date(2026, 1, 1), 30000),
        # covered from Feb 15: days 15..28 = 14 days, 30000 x 14/28 = 15000
        (Period(2026, 2), date(2026, 2, 15), 15000),
        # February 2028 has 29 days: from Feb 15 = 15 days, 30000 x 15/29 = 15517.24 -> 15517
        (Period(2028, 2), date(2028, 2, 15), 15517),
        # November 2026 has 30 days: from Nov 21 = 10 days, 30000 x 10/30 = 10000
        (NOV, date(2026, 11, 21), 10000),
        # December 2026 has 31 days: from Dec 22 = 10 days, 30000 x 10/31 = 9677.42 -> 9677
        (DEC, date(2026, 12, 22), 9677),
    ],
)
def test_flat_fee_prorated_by_days_in_month(period: Period, start: date, expected: int) -> None:
    assert recurring(terms(FLAT, Coverage("r1", start)), period) == expected


def test_device_added_on_10th_removed_on_20th() -> None:
    # covered Nov 10..19 = 10 days: 30000 x 10/30 = 10000; in December 30000 x 10/31 = 9677.42
    cov = Coverage("r1", date(2026, 11, 10), date(2026, 11, 20))
    assert recurring(terms(FLAT, cov), NOV) == 10000
    dec = Coverage("r1", date(2026, 12, 10), date(2026, 12, 20))
    assert recurring(terms(FLAT, dec), DEC) == 9677
    # with two devices all December: 62 + 10 = 72 device-days, 30000 x 72/31 = 69677.42
    assert recurring(terms(FLAT, dec, *whole(2)), DEC) == 69677
    counts = daily_counts(terms(FLAT, cov), NOV, charged=True)
    assert counts[8:10] == [0, 1] and counts[18:20] == [1, 0] and sum(counts) == 10


def test_subscription_starting_and_ending_mid_month() -> None:
    # subscription Nov 5 .. Nov 25 (exclusive), 3 devices: 20 days x 3 = 60 device-days
    # 30000 x 60 / 30 = 60000
    t = terms(FLAT, *whole(3), start=date(2026, 11, 5), end=date(2026, 11, 25))
    assert recurring(t, NOV) == 60000
    assert recurring_line(t, DEC) is None


def test_trial_days_are_not_charged() -> None:
    # starts Nov 1 with a 14-day trial: charged Nov 15..30 = 16 days, 30000 x 16/30 = 16000
    t = terms(FLAT, Coverage("r1", date(2026, 11, 1)), start=date(2026, 11, 1), trial_days=14)
    assert recurring(t, NOV) == 16000


@pytest.mark.parametrize(
    ("count", "graduated", "volume"),
    [
        (10, 100000, 100000),  # 10 x 10000 both ways
        (11, 108000, 88000),  # grad 10x10000 + 1x8000; volume 11 x 8000
        (50, 420000, 400000),  # grad 100000 + 40x8000; volume 50 x 8000
        (51, 426000, 306000),  # grad 420000 + 1x6000; volume 51 x 6000
    ],
)
def test_graduated_vs_volume_at_tier_edges(count: int, graduated: int, volume: int) -> None:
    grad = Plan("g", "G", "graduated", TIERS)
    vol = Plan("v", "V", "volume", TIERS)
    assert recurring(terms(grad, *whole(count)), NOV) == graduated
    assert recurring(terms(vol, *whole(count)), NOV) == volume


def test_tiers_apply_to_each_days_count() -> None:
    # 10 devices all November, an 11th from Nov 21: 20 days at 10 devices, 10 days at 11
    # graduated: (20 x 100000 + 10 x 108000) / 30 = 3080000 / 30 = 102666.67 -> 102667
    # volume:    (20 x 100000 + 10 x  88000) / 30 = 2880000 / 30 = 96000
    covs = [*whole(10), Coverage("late", date(2026, 11, 21))]
    assert recurring(terms(Plan("g", "G", "graduated", TIERS), *covs), NOV) == 102667
    assert recurring(terms(Plan("v", "V", "volume", TIERS), *covs), NOV) == 96000


def test_line_rounds_half_up() -> None:
    # 1001 fen x 15 device-days / 30 = 500.5 -> 501 (banker's rounding would give 500)
    plan = Plan("p", "P", "flat", (Tier(None, Decimal(1001)),))
    assert recurring(terms(plan, Coverage("r1", date(2026, 11, 16))), NOV) == 501


def test_overage_with_pooled_allowance() -> None:
    # November: 2 robots all month + 1 from the 10th to the 20th = 60 + 10 = 70 device-days
    # included = floor(60 x 70 / 30) = 140; used 175 -> 35 x 500 = 17500
    plan = Plan("o", "O", "flat", FLAT.tiers, usage=(INSPECTIONS,))
    covs = [*whole(2), Coverage("r3", date(2026, 11, 10), date(2026, 11, 20))]
    [line] = usage_lines(terms(plan, *covs), NOV, {"inspection_completed": 175})
    assert (line.kind, line.amount, line.detail["included"]) == ("overage", 17500, 140)
    assert line.quantity == Decimal(35)
    # December: 62 + 10 = 72 device-days, included = floor(60 x 72 / 31) = floor(139.35) = 139
    dec = [*whole(2), Coverage("r3", date(2026, 12, 10), date(2026, 12, 20))]
    [line] = usage_lines(terms(plan, *dec), DEC, {"inspection_completed": 150})
    assert (line.amount, line.detail["included"]) == (11 * 500, 139)
    # under the allowance: a zero line still records how many were counted
    [line] = usage_lines(terms(plan, *covs), NOV, {"inspection_completed": 100})
    assert (line.amount, line.usage_quantity) == (0, 100)


def test_pure_usage_without_allowance() -> None:
    visit = UsagePrice("service_visit", Decimal(80000), description="On-site visit")
    plan = Plan("u", "U", "flat", FLAT.tiers, usage=(visit,))
    [line] = usage_lines(terms(plan, *whole(1)), NOV, {"service_visit": 2, "other": 9})
    assert (line.kind, line.amount) == ("usage", 160000)


def test_one_off_fees() -> None:
    # installation 2000.00 per joining device, commissioning 5000.00 once in the start month
    fees = (OneOffFee("Installation", 200000, per_device=True), OneOffFee("Commissioning", 500000))
    plan = Plan("f", "F", "flat", FLAT.tiers, one_off_fees=fees)
    covs = [Coverage(f"r{i}", date(2026, 11, 1)) for i in range(2)]
    t = terms(plan, *covs, Coverage("r9", date(2026, 11, 10)), start=date(2026, 11, 1))
    assert [(ln.description, ln.amount) for ln in one_off_lines(t, NOV)] == [
        ("Installation x 3", 600000),
        ("Commissioning x 1", 500000),
    ]
    t2 = terms(plan, *covs, Coverage("r9", date(2026, 12, 3)), start=date(2026, 11, 1))
    assert [ln.amount for ln in one_off_lines(t2, DEC)] == [200000]


def test_plan_change_does_not_charge_one_off_fees_again() -> None:
    # the upgraded subscription takes r0, r1 over on Nov 16; r9 joins it on Nov 20
    fees = (OneOffFee("Installation", 200000, per_device=True), OneOffFee("Commissioning", 500000))
    plan = Plan("f", "F", "flat", FLAT.tiers, one_off_fees=fees)
    taken = [Coverage(f"r{i}", date(2026, 11, 16)) for i in range(2)]
    t = Terms(
        2,
        plan,
        date(2026, 11, 16),
        coverages=(*taken, Coverage("r9", date(2026, 11, 20))),
        replaces=True,
    )
    assert [(ln.description, ln.amount) for ln in one_off_lines(t, NOV)] == [
        ("Installation x 1", 200000)
    ]


def test_minimum_commitment_top_up() -> None:
    plan = Plan("m", "M", "flat", (Tier(None, Decimal(10000)),), minimum_commitment=50000)
    # 2 devices all November = 20000; minimum 50000 -> top-up 30000
    top = minimum_line(terms(plan, *whole(2)), NOV, [recurring_line(terms(plan, *whole(2)), NOV)])  # type: ignore[list-item]
    assert top is not None and top.amount == 30000
    # starting Nov 16: minimum prorated 50000 x 15/30 = 25000; fee 10000 x 30/30 = 10000
    t = terms(plan, *whole(2), start=date(2026, 11, 16))
    lines = price_subscription(t, NOV, {})
    assert [(ln.kind, ln.amount) for ln in lines] == [("recurring", 10000), ("minimum", 15000)]
    # above the minimum: no top-up
    assert (
        minimum_line(
            terms(plan, *whole(6)), NOV, price_subscription(terms(plan, *whole(6)), NOV, {})
        )
        is None
    )


@pytest.mark.parametrize(
    ("availability", "credit"),
    [
        ("99.6", None),
        ("99.5", None),
        ("99.49", 10),
        ("99.0", 10),
        ("98.99", 25),
        ("95", 25),
        ("94.9", 50),
        ("0", 50),
    ],
)
def test_sla_tier_selection(availability: str, credit: int | None) -> None:
    plan = Plan("s", "S", "flat", FLAT.tiers, sla_target=Decimal("99.5"), sla_tiers=SLA)
    got = sla_credit_percent(plan, Decimal(availability))
    assert got == (None if credit is None else Decimal(credit))


def test_sla_credit_line_is_share_of_recurring() -> None:
    # 3 devices x 30000 = 90000 recurring; 98.2 % -> 25 % credit = -22500
    plan = Plan("s", "S", "flat", FLAT.tiers, sla_target=Decimal("99.5"), sla_tiers=SLA)
    lines = price_subscription(terms(plan, *whole(3)), NOV, {}, Decimal("98.2"))
    assert [(ln.kind, ln.amount) for ln in lines] == [("recurring", 90000), ("sla_credit", -22500)]
    assert "98.200 %" in lines[1].description


def test_charge_models_describe_the_tiers_they_used() -> None:
    from billing.charge_models import charge_model

    assert charge_model("graduated").describe(11, TIERS) == [
        {"up_to": 10, "devices": 10, "unit_price": "10000"},
        {"up_to": 50, "devices": 1, "unit_price": "8000"},
    ]
    assert charge_model("volume").describe(51, TIERS) == [
        {"up_to": None, "devices": 51, "unit_price": "6000"}
    ]
    assert charge_model("flat").monthly_price(0, (Tier(None, Decimal(5), Decimal(100)),)) == 0
    assert charge_model("flat").monthly_price(2, (Tier(None, Decimal(5), Decimal(100)),)) == 110
