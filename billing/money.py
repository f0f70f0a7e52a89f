"""Currencies (ISO 4217 with their minor unit) and the one outside form of money.

Inside billing every amount is an integer of the currency's minor unit (fen, cent, yen, fils).
Everywhere outside (API, CSV, CLI, documents) an amount is a decimal string in major units
with exactly the currency's minor-unit digits ("300.00" CNY, "300" JPY, "0.300" BHD), always
next to its `currency`. Unit prices may carry up to PRICE_EXTRA_DIGITS more digits.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

import iso4217

# Sub-minor precision allowed on unit prices (a telemetry value may cost 0.0005 CNY).
PRICE_EXTRA_DIGITS = 4
# Bounds on what a plan or credit note may say, in major units; far above any real tariff and
# far below what would overflow a bigint of minor units over 100,000 devices and a month.
MAX_PRICE = Decimal(10) ** 9
# The largest line amount in minor units the arithmetic accepts (bigint holds 9.2e18).
MAX_MINOR = 10**17


@cache
def minor_unit(currency: str) -> int:
    """Digits of the currency's minor unit (CNY 2, JPY 0, BHD 3); ValueError if not ISO 4217."""
    entry = iso4217.raw_table.get(currency) if isinstance(currency, str) else None
    digits = str(entry.get("CcyMnrUnts")) if entry else ""
    if not digits.isdigit():
        raise ValueError(
            f"invalid currency {currency!r}: expected an ISO 4217 code of a currency with a "
            "minor unit, e.g. CNY, EUR, JPY"
        )
    return int(digits)


def to_major(minor: int | Decimal, currency: str) -> str:
    """Minor units as a major-unit decimal string with the currency's digits (more for
    fractional unit prices): 30000 CNY -> "300.00", 30000 JPY -> "30000", 300 BHD -> "0.300"."""
    digits = minor_unit(currency)
    value = Decimal(minor).scaleb(-digits)
    places = max(digits, -value.normalize().as_tuple().exponent)  # type: ignore[operator]
    return f"{value:.{places}f}"


def to_minor(major: Decimal | str, currency: str, *, extra_digits: int = 0) -> Decimal:
    """Major units to minor units; refuses more digits than the minor unit (+ extra_digits)."""
    try:
        value = Decimal(major)
    except InvalidOperation:
        raise ValueError(f"{major!r} is not a decimal amount") from None
    if not value.is_finite() or abs(value) > MAX_PRICE:
        raise ValueError(f"amount {major} is out of range (at most {MAX_PRICE} {currency})")
    minor = value.scaleb(minor_unit(currency))
    if minor != minor.quantize(Decimal(1).scaleb(-extra_digits)):
        allowed = minor_unit(currency) + extra_digits
        raise ValueError(f"amount {major} {currency} has more than {allowed} decimal places")
    return minor.normalize() if minor else Decimal(0)


def to_minor_int(major: Decimal | str, currency: str) -> int:
    """A whole amount (fee, credit) in minor units."""
    return int(to_minor(major, currency))


def round_minor(value: Decimal) -> int:
    """Round half-up to a whole minor unit; refuses amounts past MAX_MINOR (a 4xx, not a 500)."""
    try:
        whole = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        raise ValueError(f"amount {value} cannot be rounded: out of range") from None
    if abs(whole) > MAX_MINOR:
        raise ValueError(f"amount {whole} minor units is out of range (at most {MAX_MINOR})")
    return whole


def format_money(minor: int, currency: str) -> str:
    """'300.00 CNY', '30000 JPY', '-0.050 BHD'."""
    return f"{to_major(minor, currency)} {currency}"
