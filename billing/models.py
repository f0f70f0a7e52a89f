"""Billing domain objects: money, periods, plans, coverage and invoice lines (frozen, validated)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.money import format_money, minor_unit, round_minor

# ASCII digits only: `\d` would also take full-width and other Unicode digits.
_PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
# Prices in minor units per unit: far above any tariff, far below what overflows the sums.
MAX_UNIT_PRICE = Decimal(10) ** 12
_USAGE_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
PRICING_MODELS = ("flat", "graduated", "volume")
LINE_KINDS = (
    "recurring",
    "usage",
    "overage",
    "one_off",
    "minimum",
    "sla_credit",
    "late_usage",
    "discount",
)


def round_fen(value: Decimal) -> int:
    """Round an amount in minor units half-up to a whole one (half away from zero for
    credits); ValueError when it is out of range."""
    return round_minor(value)


def check_price(value: Decimal, what: str) -> None:
    """A non-negative, finite price of at most MAX_UNIT_PRICE minor units."""
    if not value.is_finite() or not 0 <= value <= MAX_UNIT_PRICE:
        raise ValueError(f"{what} must lie in [0, {MAX_UNIT_PRICE}] minor units, not {value}")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (fen for CNY) with its ISO 4217 currency code."""

    amount: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        minor_unit(self.currency)
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an integer number of minor units")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar month, e.g. 2026-11; its bounds depend on the tenant's time zone."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1970 <= self.year <= 9999:
            raise ValueError(f"invalid period {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse 'YYYY-MM' exactly (no spaces, ASCII digits)."""
        m = _PERIOD.fullmatch(text)
        if not m:
            raise ValueError(f"invalid period {text!r}: expected YYYY-MM, e.g. 2026-11")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def days(self) -> int:
        """Number of days in the month (28..31)."""
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def first(self) -> date:
        """The first day of the month."""
        return date(self.year, self.month, 1)

    @property
    def next_first(self) -> date:
        """The first day of the next month (exclusive end)."""
        return self.first + timedelta(days=self.days)

    def next(self) -> Period:
        """The following month."""
        return Period.of(self.next_first)

    def previous(self) -> Period:
        """The preceding month."""
        return Period.of(self.first - timedelta(days=1))

    @classmethod
    def of(cls, day: date) -> Period:
        """The month containing a date."""
        return cls(day.year, day.month)

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: local midnight of day 1 and of next month's day 1."""
        tz = ZoneInfo(timezone)
        start = datetime(self.year, self.month, 1, tzinfo=tz)
        nxt = self.next_first
        return start, datetime(nxt.year, nxt.month, 1, tzinfo=tz)

    def contains(self, ts: datetime, timezone: str) -> bool:
        """Whether an aware timestamp falls in this month in the given zone."""
        local = ts.astimezone(ZoneInfo(timezone))
        return (local.year, local.month) == (self.year, self.month)


@dataclass(frozen=True, slots=True)
class Tier:
    """A price band: devices up to `up_to` (inclusive; None = no limit) at `unit_price` fen."""

    up_to: int | None
    unit_price: Decimal
    flat_fee: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.up_to is not None and self.up_to < 1:
            raise ValueError("tier up_to must be >= 1 or None")
        check_price(self.unit_price, "a tier's unit price")
        check_price(self.flat_fee, "a tier's flat fee")


def check_tiers(tiers: tuple[Tier, ...]) -> None:
    """Tiers must ascend strictly and end with an open (None) tier."""
    if not tiers:
        raise ValueError("a plan needs at least one price tier")
    bounds = [t.up_to for t in tiers]
    if bounds[-1] is not None or None in bounds[:-1]:
        raise ValueError("only the last tier may (and must) have up_to = None")
    limits = [b for b in bounds if b is not None]
    if limits != sorted(set(limits)):
        raise ValueError("tier up_to values must increase strictly")


@dataclass(frozen=True, slots=True)
class UsagePrice:
    """Metered usage of one event type: included units per device-month and the unit price."""

    usage_type: str
    unit_price: Decimal
    included_per_device: int = 0
    description: str = ""

    def __post_init__(self) -> None:
        if not _USAGE_TYPE.match(self.usage_type):
            raise ValueError(f"invalid usage type {self.usage_type!r}")
        check_price(self.unit_price, "a usage price")
        if not 0 <= self.included_per_device <= 10**9:
            raise ValueError("included units must lie in [0, 1e9]")


@dataclass(frozen=True, slots=True)
class OneOffFee:
    """A one-time fee: per contract (charged in the start month) or per joining device."""

    name: str
    amount: int
    per_device: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a one-off fee needs a name")
        check_price(Decimal(self.amount), "a one-off fee")


@dataclass(frozen=True, slots=True)
class SlaTier:
    """Availability strictly below `below` percent credits `credit` percent of the recurring fee."""

    below: Decimal
    credit: Decimal

    def __post_init__(self) -> None:
        if not (0 < self.below <= 100 and 0 < self.credit <= 100):
            raise ValueError("SLA tier percentages must lie in (0, 100]")


@dataclass(frozen=True, slots=True)
class Plan:
    """A monitoring plan: recurring per-device fee, usage prices, fees, commitment, SLA, VAT."""

    id: str
    name: str
    pricing_model: str
    tiers: tuple[Tier, ...]
    currency: str = "CNY"
    usage: tuple[UsagePrice, ...] = ()
    one_off_fees: tuple[OneOffFee, ...] = ()
    minimum_commitment: int = 0
    sla_target: Decimal | None = None
    sla_tiers: tuple[SlaTier, ...] = ()
    # 6 %: China's VAT rate for modern and IT services (the monitoring service).
    vat_rate: Decimal = Decimal("0.06")
    # prices per device and interval (month, quarter, year); quarterly and yearly plans are
    # billed in advance per calendar term unless charged monthly (billing.terms)
    interval: str = "month"
    bill_charges_monthly: bool = False

    def __post_init__(self) -> None:
        if self.interval not in ("month", "quarter", "year"):
            raise ValueError("the interval must be month, quarter or year")
        if self.pricing_model not in PRICING_MODELS:
            raise ValueError(f"pricing model must be one of {PRICING_MODELS}")
        check_tiers(self.tiers)
        Money(0, self.currency)
        check_price(Decimal(self.minimum_commitment), "the minimum commitment")
        if not 0 <= self.vat_rate < 1:
            raise ValueError("the VAT rate must lie in [0, 1)")
        if self.sla_target is not None and not 0 < self.sla_target <= 100:
            raise ValueError("the SLA target must lie in (0, 100] percent")
        if len({u.usage_type for u in self.usage}) != len(self.usage):
            raise ValueError("each usage type may be priced once per plan")
        if self.sla_tiers and self.sla_target is None:
            raise ValueError("SLA credit tiers need an SLA target")


@dataclass(frozen=True, slots=True)
class Coverage:
    """A device covered on the dates [start, end) in the tenant's zone (end None = open)."""

    device_id: str
    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"coverage of {self.device_id} must end after it starts")


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line; `amount` is rounded to the fen, `detail` explains how it was priced."""

    kind: str
    description: str
    amount: int
    vat_rate: Decimal
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    subscription_id: int | None = None
    usage_type: str | None = None
    usage_period: str | None = None
    usage_quantity: int | None = None
    detail: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in LINE_KINDS:
            raise ValueError(f"line kind must be one of {LINE_KINDS}")


@dataclass(frozen=True, slots=True)
class Window:
    """A maintenance window of one device: its intervals are left out of availability."""

    device_id: str
    start: datetime
    end: datetime
