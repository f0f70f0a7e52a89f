"""Pydantic I/O for billing: plans (also their stored JSON form), subscriptions, invoices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from billing.models import OneOffFee, Plan, SlaTier, Tier, UsagePrice


class TierIn(BaseModel):
    """A price band in fen per device-month."""

    up_to: int | None = None
    unit_price: Decimal
    flat_fee: Decimal = Decimal(0)


class UsagePriceIn(BaseModel):
    """Metered usage: included units per device-month and the price of each further unit."""

    usage_type: str
    unit_price: Decimal
    included_per_device: int = 0
    description: str = ""


class OneOffFeeIn(BaseModel):
    """A one-time fee in fen."""

    name: str
    amount: int
    per_device: bool = False


class SlaTierIn(BaseModel):
    """Availability below `below` % credits `credit` % of the recurring charge."""

    below: Decimal
    credit: Decimal


class PlanIn(BaseModel):
    """A plan as the API accepts it and the database stores it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    pricing_model: Literal["flat", "graduated", "volume"]
    tiers: list[TierIn]
    currency: str = "CNY"
    usage_prices: list[UsagePriceIn] = Field(default_factory=list)
    one_off_fees: list[OneOffFeeIn] = Field(default_factory=list)
    minimum_commitment: int = 0
    sla_target: Decimal | None = None
    sla_tiers: list[SlaTierIn] = Field(default_factory=list)
    vat_rate: Decimal = Decimal("0.06")

    def to_model(self) -> Plan:
        """The validated domain plan (raises ValueError with the reason)."""
        return Plan(
            self.id,
            self.name,
            self.pricing_model,
            tuple(Tier(t.up_to, t.unit_price, t.flat_fee) for t in self.tiers),
            self.currency,
            tuple(UsagePrice(**u.model_dump()) for u in self.usage_prices),
            tuple(OneOffFee(**f.model_dump()) for f in self.one_off_fees),
            self.minimum_commitment,
            self.sla_target,
            tuple(SlaTier(s.below, s.credit) for s in self.sla_tiers),
            self.vat_rate,
        )

    @classmethod
    def from_row(cls, row: Any) -> PlanIn:
        """Read a billing_plans row."""
        return cls.model_validate({k: row[k] for k in cls.model_fields})


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


class RunRequest(BaseModel):
    """Bill one period, optionally for some tenants only."""

    period: str
    tenant_ids: list[str] | None = None


class RunResult(BaseModel):
    """What a billing run did."""

    period: str
    drafts: int
    skipped_issued: int
    removed_empty: int
    lines: int


class CreditNoteLineIn(BaseModel):
    """An amount credited against an invoice, in fen, at a VAT rate of that invoice."""

    description: str
    amount: int
    vat_rate: Decimal


class CreditNoteIn(BaseModel):
    """A correction of an issued invoice."""

    reason: str
    lines: list[CreditNoteLineIn]


class VoidIn(BaseModel):
    """Why an invoice is voided."""

    reason: str


class InvoiceLineOut(BaseModel):
    """One invoice line."""

    line_no: int
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: int
    currency: str
    vat_rate: Decimal
    subscription_id: int | None
    usage_type: str | None
    usage_period: str | None
    detail: dict[str, Any]


class InvoiceOut(BaseModel):
    """An invoice header, with lines in the detail view."""

    id: int
    tenant_id: str
    period: str
    currency: str
    status: str
    number: str | None
    subtotal: int
    vat: int
    total: int
    buyer_name: str
    finalized_at: datetime | None
    content_hash: str | None
    lines: list[InvoiceLineOut] | None = None


class CreditNoteOut(BaseModel):
    """An issued credit note."""

    id: int
    invoice_id: int
    number: str
    reason: str
    currency: str
    subtotal: int
    vat: int
    total: int
