"""Money, periods in the tenant's zone, VAT totals and late-usage lines (worked by hand)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing.charge_models import charge_model
from billing.invoice_math import content_hash, late_usage_line, totals
from billing.models import Line, Money, Period, Plan, Tier, UsagePrice

SIX = Decimal("0.06")


def line(amount: int, rate: Decimal = SIX) -> Line:
    return Line("usage", "x", amount, rate)


def test_money_is_integer_minor_units_with_currency() -> None:
    assert str(Money(123456)) == "1234.56 CNY"
    assert str(Money(-5, "USD")) == "-0.05 USD"
    assert Money(1) + Money(2) == Money(3)
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(1, "yuan")
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot add"):
        Money(1) + Money(1, "EUR")


def test_period_lengths_and_parsing() -> None:
    days = [Period.parse(p).days for p in ("2026-02", "2028-02", "2026-11", "2026-12")]
    assert days == [28, 29, 30, 31]
    assert str(Period.parse("2026-12").next()) == "2027-01"
    assert str(Period.parse("2027-01").previous()) == "2026-12"
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.parse("2026-13")


def test_usage_late_on_last_day_utc_belongs_to_next_month_in_shanghai() -> None:
    # 2026-11-30 23:30 UTC is 2026-12-01 07:30 in Asia/Shanghai (UTC+8)
    ts = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert Period(2026, 12).contains(ts, "Asia/Shanghai")
    assert not Period(2026, 11).contains(ts, "Asia/Shanghai")
    assert Period(2026, 11).contains(ts, "UTC")
    start, end = Period(2026, 11).bounds("Asia/Shanghai")
    assert start.astimezone(UTC) == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 11, 30, 16, tzinfo=UTC)


def test_vat_on_many_small_lines_is_rounded_once() -> None:
    # 100 lines of 3 fen: per-line VAT would be round(0.18) = 0 each, i.e. 0 in total;
    # once on the subtotal: 300 x 6 % = 18 fen
    t = totals([line(3) for _ in range(100)])
    assert (t.subtotal, t.vat, t.total) == (300, 18, 318)


def test_vat_half_up_and_per_rate() -> None:
    # 75 x 6 % = 4.5 -> 5 (half-up; banker's would give 4)
    assert totals([line(75)]).vat == 5
    # 10005 @ 6 % = 600.3 -> 600; 10005 @ 13 % = 1300.65 -> 1301; VAT 1901
    t = totals([line(10005), line(10005, Decimal("0.13"))])
    assert (t.subtotal, t.vat, t.total) == (20010, 1901, 21911)
    assert t.vat_by_rate == {"0.06": 600, "0.13": 1301}
    # a credit's VAT mirrors a charge's: -75 x 6 % = -4.5 -> -5
    assert totals([line(-75)]).vat == -5


def test_late_usage_charges_only_the_new_overage() -> None:
    price = UsagePrice("inspection_completed", Decimal(500), included_per_device=60)
    # included 140, billed 175 (35 over), now 180 measured: 5 more over -> 5 x 500 = 2500
    ln = late_usage_line(
        price, SIX, period="2026-10", billed=175, measured=180, included=140, subscription_id=1
    )
    assert ln is not None and (ln.amount, ln.usage_quantity) == (2500, 5)
    assert "2026-10" in ln.description
    # billed 100 (under 140), now 150: 10 over -> 5000
    ln = late_usage_line(
        price, SIX, period="2026-10", billed=100, measured=150, included=140, subscription_id=1
    )
    assert ln is not None and ln.amount == 5000
    assert (
        late_usage_line(
            price, SIX, period="2026-10", billed=150, measured=150, included=140, subscription_id=1
        )
        is None
    )


def test_plan_and_factory_validation() -> None:
    with pytest.raises(ValueError, match="unknown pricing model"):
        charge_model("per-seat")
    with pytest.raises(ValueError, match="up_to = None"):
        Plan("p", "P", "graduated", (Tier(10, Decimal(1)),))
    with pytest.raises(ValueError, match="increase"):
        Plan(
            "p",
            "P",
            "graduated",
            (Tier(10, Decimal(1)), Tier(5, Decimal(1)), Tier(None, Decimal(1))),
        )
    with pytest.raises(ValueError, match="SLA target"):
        from billing.models import SlaTier

        Plan(
            "p",
            "P",
            "flat",
            (Tier(None, Decimal(1)),),
            sla_tiers=(SlaTier(Decimal(99), Decimal(10)),),
        )


def test_content_hash_changes_with_any_line() -> None:
    a = content_hash({"total": 1}, [{"amount": 1}])
    assert a == content_hash({"total": 1}, [{"amount": 1}])
    assert a != content_hash({"total": 1}, [{"amount": 2}])
