"""Pydantic I/O for billing: plans (also their stored JSON form), subscriptions, invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from billing.models import OneOffFee, Period, Plan, SlaTier, Tier, UsagePrice
from billing.money import (
    MAX_PRICE,
    PRICE_EXTRA_DIGITS,
    minor_unit,
    to_major,
    to_minor,
    to_minor_int,
)

# Money in the API: decimal strings in major units of the object's `currency` (see
# docs/billing.md "Money"), e.g. "300.00" CNY, "30000" JPY, "0.300" BHD.
Price = Annotated[
    Decimal,
    Field(ge=0, le=MAX_PRICE, description="major units of the plan's currency, e.g. 300.00"),
]
Percent = Annotated[Decimal, Field(gt=0, le=100, description="percent in (0, 100]")]
Major = Annotated[str, Field(description="decimal string in major units of `currency`")]


class TierIn(BaseModel):
    """A price band per device-month, in major units of the plan's currency."""

    model_config = ConfigDict(extra="forbid")

    up_to: int | None = Field(None, ge=1, le=10**7)
    unit_price: Price
    flat_fee: Price = Decimal(0)


class UsagePriceIn(BaseModel):
    """Metered usage: included units per device-month and the price of each further unit."""

    model_config = ConfigDict(extra="forbid")

    usage_type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    unit_price: Price
    included_per_device: int = Field(0, ge=0, le=10**9)
    description: str = Field("", max_length=200)


class OneOffFeeIn(BaseModel):
    """A one-time fee in major units."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    amount: Price
    per_device: bool = False


class SlaTierIn(BaseModel):
    """Availability below `below` % credits `credit` % of the recurring charge."""

    model_config = ConfigDict(extra="forbid")

    below: Percent
    credit: Percent


class PlanIn(BaseModel):
    """A plan as the API accepts and shows it (amounts in major units of `currency`)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str = Field(min_length=1, max_length=200)
    pricing_model: Literal["flat", "graduated", "volume"]
    tiers: list[TierIn] = Field(max_length=100)
    currency: str = Field("CNY", description="ISO 4217 code; amounts use its minor unit")
    usage_prices: list[UsagePriceIn] = Field(default_factory=list, max_length=100)
    one_off_fees: list[OneOffFeeIn] = Field(default_factory=list, max_length=100)
    minimum_commitment: Price = Decimal(0)
    sla_target: Percent | None = None
    sla_tiers: list[SlaTierIn] = Field(default_factory=list, max_length=20)
    vat_rate: Decimal = Field(Decimal("0.06"), ge=0, lt=1, description="0.06 is 6 %")
    interval: Literal["month", "quarter", "year"] = Field(
        "month", description="prices are per device and interval"
    )
    bill_charges_monthly: bool = Field(
        False, description="quarter/year: charge a share each month instead of the term ahead"
    )

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, code: str) -> str:
        minor_unit(code)
        return code

    def to_model(self) -> Plan:
        """The validated domain plan in minor units (raises ValueError with the reason)."""
        cur = self.currency

        def price(v: Decimal) -> Decimal:
            return to_minor(v, cur, extra_digits=PRICE_EXTRA_DIGITS)

        return Plan(
            self.id,
            self.name,
            self.pricing_model,
            tuple(Tier(t.up_to, price(t.unit_price), price(t.flat_fee)) for t in self.tiers),
            cur,
            tuple(
                UsagePrice(u.usage_type, price(u.unit_price), u.included_per_device, u.description)
                for u in self.usage_prices
            ),
            tuple(
                OneOffFee(f.name, to_minor_int(f.amount, cur), f.per_device)
                for f in self.one_off_fees
            ),
            to_minor_int(self.minimum_commitment, cur),
            self.sla_target,
            tuple(SlaTier(s.below, s.credit) for s in self.sla_tiers),
            self.vat_rate,
            self.interval,
            self.bill_charges_monthly,
        )

    @classmethod
    def from_model(cls, plan: Plan) -> PlanIn:
        """The API form of a domain plan."""
        cur = plan.currency

        def major(v: Decimal | int) -> Decimal:
            return Decimal(to_major(v, cur))

        return cls(
            id=plan.id,
            name=plan.name,
            pricing_model=plan.pricing_model,
            tiers=[
                TierIn(up_to=t.up_to, unit_price=major(t.unit_price), flat_fee=major(t.flat_fee))
                for t in plan.tiers
            ],
            currency=cur,
            usage_prices=[
                UsagePriceIn(
                    usage_type=u.usage_type,
                    unit_price=major(u.unit_price),
                    included_per_device=u.included_per_device,
                    description=u.description,
                )
                for u in plan.usage
            ],
            one_off_fees=[
                OneOffFeeIn(name=f.name, amount=major(f.amount), per_device=f.per_device)
                for f in plan.one_off_fees
            ],
            minimum_commitment=major(plan.minimum_commitment),
            sla_target=plan.sla_target,
            sla_tiers=[SlaTierIn(below=t.below, credit=t.credit) for t in plan.sla_tiers],
            vat_rate=plan.vat_rate,
            interval=plan.interval,
            bill_charges_monthly=plan.bill_charges_monthly,
        )


class SubscriptionIn(BaseModel):
    """A new subscription covering devices from its start date."""

    tenant_id: str
    plan_id: str
    start_date: date
    end_date: date | None = None
    trial_days: int = Field(0, ge=0, le=366)
    device_ids: list[str] = Field(default_factory=list, max_length=100_000)

    @model_validator(mode="after")
    def _dates(self) -> SubscriptionIn:
        if self.end_date is not None and self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date (it is exclusive)")
        if len(set(self.device_ids)) != len(self.device_ids):
            raise ValueError("device_ids lists a device twice")
        return self


class CoverageChange(BaseModel):
    """A device joining or leaving a subscription on a date."""

    device_id: str
    on: date


class PlanChange(BaseModel):
    """Move a subscription to another plan from a date (upgrade or downgrade)."""

    plan_id: str
    on: date


class Cancel(BaseModel):
    """End a subscription on a date (exclusive)."""

    on: date


# YYYY-MM with ASCII digits, years 1970-9999, nothing around it.
PERIOD_PATTERN = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"


class RunRequest(BaseModel):
    """Bill one period, optionally for some tenants only."""

    model_config = ConfigDict(extra="forbid")

    period: str = Field(description="YYYY-MM, e.g. 2026-11 (ASCII digits, nothing around)")
    tenant_ids: list[str] | None = Field(None, min_length=1, max_length=100_000)

    @field_validator("period")
    @classmethod
    def _period(cls, text: str) -> str:
        Period.parse(text)
        return text


class TenantFailure(BaseModel):
    """A tenant a billing run could not bill, and why."""

    tenant_id: str
    error: str


class RunResult(BaseModel):
    """What a billing run did; `failed` names tenants left unbilled (the rest are billed)."""

    period: str
    drafts: int
    skipped_issued: int
    removed_empty: int
    lines: int
    failed: list[TenantFailure] = Field(default_factory=list)
    run_id: int | None = None


class CouponIn(BaseModel):
    """A coupon: `percent_off`, or `amount_off` in major units of `currency`, per month."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$")
    name: str = Field(min_length=1, max_length=200)
    percent_off: Percent | None = None
    amount_off: Price | None = None
    currency: str | None = None
    duration_months: int | None = Field(None, ge=1, le=1200, description="None: for ever")

    @model_validator(mode="after")
    def _one_kind(self) -> CouponIn:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("give either percent_off or amount_off")
        if (self.amount_off is None) != (self.currency is None):
            raise ValueError("amount_off needs its currency (and percent_off none)")
        if self.currency is not None:
            minor_unit(self.currency)
        return self


class RedemptionIn(BaseModel):
    """A tenant redeems a coupon from a month on."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str
    first_period: str = Field(description="YYYY-MM: the first month it applies to")

    @field_validator("first_period")
    @classmethod
    def _period(cls, text: str) -> str:
        Period.parse(text)
        return text
