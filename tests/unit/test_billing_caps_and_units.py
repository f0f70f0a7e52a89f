"""Issue #14's arithmetic, worked by hand (docs/billing.md): credit caps per VAT rate,
currencies' minor units, bounds, strict periods, per-line VAT shares, amounts in words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.invoice_math import Credited, credit_note_totals, line_vats
from billing.models import Money, Period, Plan, Tier, round_fen
from billing.money import minor_unit, to_major, to_minor
from billing.schemas import PlanIn
from billing.words import cny_in_words, integer_in_words

SIX, THIRTEEN = Decimal("0.06"), Decimal("0.13")
NOTHING = Credited({}, {})


def test_three_small_credit_notes_never_credit_more_vat_than_billed() -> None:
    # invoice 0.75 at 6 %: VAT 4.5 -> 5 fen, total 80. Notes of 25 each: the VAT is rounded
    # on the cumulative credited base: round(1.5) = 2, round(3.0) - 2 = 1, round(4.5) - 3 = 2
    invoice = Credited({SIX: 75}, {SIX: 5})
    before, vats = NOTHING, []
    for _ in range(3):
        t = credit_note_totals(invoice, before, {SIX: 25})
        vats.append(t.vat)
        base = before.base.get(SIX, 0) + t.subtotal
        before = Credited({SIX: base}, {SIX: before.vat.get(SIX, 0) + t.vat})
    assert vats == [2, 1, 2]
    assert before.total == 80  # exactly the invoice's total (the old cap allowed 81)
    with pytest.raises(ValueError, match="left to credit"):
        credit_note_totals(invoice, before, {SIX: 1})


def test_credit_is_capped_per_rate_not_only_on_the_subtotal() -> None:
    # 100.05 at 6 % and 100.05 at 13 % (VAT 6.00 + 13.01): a note of 201.05 at 13 % exceeds
    # what was billed at 13 % and is refused; 100.05 at 13 % (+ 13.01 VAT) is accepted
    invoice = Credited({SIX: 10005, THIRTEEN: 10005}, {SIX: 600, THIRTEEN: 1301})
    with pytest.raises(ValueError, match="13 %"):
        credit_note_totals(invoice, NOTHING, {THIRTEEN: 20105})
    t = credit_note_totals(invoice, NOTHING, {THIRTEEN: 10005})
    assert (t.subtotal, t.vat, t.total) == (10005, 1301, 11306)


def test_minor_units_come_from_iso_4217() -> None:
    assert [minor_unit(c) for c in ("JPY", "CNY", "BHD")] == [0, 2, 3]
    for bad in ("XYZ", "yuan", "XAU"):
        with pytest.raises(ValueError, match="ISO 4217"):
            minor_unit(bad)
    assert str(Money(30000, "JPY")) == "30000 JPY"
    assert str(Money(30000, "CNY")) == "300.00 CNY"
    assert str(Money(300, "BHD")) == "0.300 BHD"
    assert to_major(Decimal("0.5"), "CNY") == "0.005"  # a unit price below a fen
    assert to_minor("300", "JPY") == 300
    with pytest.raises(ValueError, match="decimal places"):
        to_minor("300.5", "JPY")


def test_a_jpy_plan_rounds_to_whole_yen() -> None:
    plan = PlanIn.model_validate(
        {
            "id": "jp",
            "name": "JP",
            "pricing_model": "flat",
            "currency": "JPY",
            "tiers": [{"unit_price": "3000"}],
        }
    ).to_model()
    assert plan.tiers[0].unit_price == 3000  # yen are the minor unit
    bhd = PlanIn.model_validate(
        {
            "id": "bh",
            "name": "BH",
            "pricing_model": "flat",
            "currency": "BHD",
            "tiers": [{"unit_price": "1.250"}],
        }
    ).to_model()
    assert bhd.tiers[0].unit_price == 1250  # fils


def test_prices_and_arithmetic_are_bounded() -> None:
    with pytest.raises(ValueError):
        Plan("p", "P", "flat", (Tier(None, Decimal("1e30")),))
    with pytest.raises(ValueError, match="out of range"):
        round_fen(Decimal("1e30"))
    with pytest.raises(ValueError):
        PlanIn.model_validate(
            {"id": "p", "name": "P", "pricing_model": "flat", "tiers": [{"unit_price": "1e30"}]}
        )


def test_periods_are_exactly_yyyy_mm_in_ascii() -> None:
    for bad in ("2026-11 ", " 2026-11", "２０２６-11", "2026-1", "2026-13"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            Period.parse(bad)
    assert Period.parse("1970-01") < Period.parse("2026-11")


def test_line_vat_shares_add_up_to_the_vat_of_their_rate() -> None:
    # three lines of 25 at 6 %: 1.5 each (4.5 exact), the invoice's VAT is 5: shares 2, 2, 1
    assert line_vats([(25, SIX)] * 3, {SIX: 5}) == [2, 2, 1]
    # 10005 at 6 % (600.3) and 10005 at 13 % (1300.65): 600 and 1301
    assert line_vats([(10005, SIX), (10005, THIRTEEN)], {SIX: 600, THIRTEEN: 1301}) == [600, 1301]
    # a credit line: 70000 and -35000 at 6 %: 4200 and -2100 (VAT of 35000 is 2100)
    assert line_vats([(70000, SIX), (-35000, SIX)], {SIX: 2100}) == [4200, -2100]


def test_total_in_words() -> None:
    assert cny_in_words(42930) == "肆佰贰拾玖元叁角整"
    assert cny_in_words(21911) == "贰佰壹拾玖元壹角壹分"
    assert cny_in_words(10000) == "壹佰元整"
    assert cny_in_words(1000) == "壹拾元整"
    assert cny_in_words(105) == "壹元零伍分"
    assert cny_in_words(30) == "叁角整"
    assert cny_in_words(5) == "伍分"
    assert cny_in_words(0) == "零元整"
    assert cny_in_words(100110) == "壹仟零壹元壹角整"
    assert cny_in_words(1000000001) == "壹仟万元零壹分"
    assert cny_in_words(-530) == "负伍元叁角整"
    assert integer_in_words(100010000) == "壹亿零壹万"
    assert integer_in_words(10000100) == "壹仟万零壹佰"
    assert integer_in_words(110000) == "壹拾壹万"
    assert integer_in_words(1010) == "壹仟零壹拾"
