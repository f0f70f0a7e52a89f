"""Pydantic I/O for invoices, credit notes and payments; money in major units (see
docs/billing.md "Money")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from billing.money import MAX_PRICE, minor_unit
from billing.schemas import Major


class CreditNoteLineIn(BaseModel):
    """An amount credited against an invoice, in major units of its currency (without VAT),
    at a VAT rate of that invoice."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=500)
    amount: Decimal = Field(gt=0, le=MAX_PRICE, description="major units, e.g. 5.00")
    vat_rate: Decimal = Field(ge=0, lt=1)


class CreditNoteIn(BaseModel):
    """A correction of an issued invoice."""

    reason: str = Field(max_length=1000)
    lines: list[CreditNoteLineIn] = Field(max_length=1000)


class VoidIn(BaseModel):
    """Why an invoice is voided."""

    reason: str


class PaymentIn(BaseModel):
    """A payment received for an issued invoice, in major units of its currency."""

    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, le=MAX_PRICE, description="major units, e.g. 100.00")
    paid_on: date
    reference: str = Field("", max_length=200, description="e.g. the bank transfer's id")


class PaymentOut(BaseModel):
    """A recorded payment."""

    id: int
    invoice_id: int
    amount: Major
    currency: str
    paid_on: date
    reference: str


class FinalizeIn(BaseModel):
    """Finalizing a period that has not ended needs `force` and a reason."""

    model_config = ConfigDict(extra="forbid")

    force: bool = False
    reason: str = Field("", max_length=1000)


class InvoiceLineOut(BaseModel):
    """One invoice line; amounts in major units of `currency`."""

    line_no: int
    kind: str
    description: str
    quantity: Decimal
    unit_price: Major | None
    amount: Major
    vat: Major = Field(description="this line's share of the VAT (the invoice rounds per rate)")
    currency: str
    vat_rate: Decimal
    subscription_id: int | None
    usage_type: str | None
    usage_period: str | None
    detail: dict[str, Any]


class InvoiceOut(BaseModel):
    """An invoice header, with lines in the detail view; amounts in major units."""

    id: int
    tenant_id: str
    period: str
    currency: str
    minor_unit: int = Field(description="digits of the currency's minor unit (CNY 2, JPY 0)")
    status: str
    number: str | None
    subtotal: Major
    vat: Major
    total: Major
    vat_breakdown: dict[str, Major]
    buyer_name: str
    timezone: str | None
    period_start: datetime | None
    period_end: datetime | None
    measured_until: datetime | None = Field(
        description="set on a draft of a running month: availability measured up to then"
    )
    early_finalize_reason: str | None
    finalized_at: datetime | None
    due_date: date | None
    amount_paid: Major
    amount_credited: Major
    amount_due: Major
    payment_status: str = Field(
        description="draft, unpaid, partially_paid, overdue (past due_date), paid or void"
    )
    content_hash: str | None
    lines: list[InvoiceLineOut] | None = None


class CreditNoteOut(BaseModel):
    """An issued credit note; amounts in major units."""

    id: int
    invoice_id: int
    number: str
    reason: str
    currency: str
    subtotal: Major
    vat: Major
    total: Major
    vat_breakdown: dict[str, Major]
    lines: list[dict[str, Any]]


class UsageRecordIn(BaseModel):
    """One unit of usage from outside the device stream, identified by the sender."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=200, description="the sender's unique id")
    tenant_id: str
    device_id: str
    usage_type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    quantity: int = Field(1, ge=1, le=10**9)
    ts: AwareDatetime = Field(description="when it happened (device time), with its offset")

    @field_validator("usage_type")
    @classmethod
    def _not_metered_otherwise(cls, value: str) -> str:
        if value == "telemetry_values":
            raise ValueError("telemetry_values is metered from stored telemetry")
        return value


class UsageBatchIn(BaseModel):
    """Usage records to store (idempotent by (tenant, event id))."""

    model_config = ConfigDict(extra="forbid")

    records: list[UsageRecordIn] = Field(min_length=1, max_length=10_000)


class UsageBatchOut(BaseModel):
    """What was stored: new records, duplicates of stored ones, and conflicting event ids
    (known with other content: not stored)."""

    accepted: int
    duplicates: int
    conflicts: list[str]


class TopUpIn(BaseModel):
    """Prepaid credit paid into a tenant's wallet, in major units of `currency`."""

    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, le=MAX_PRICE, description="major units, e.g. 1000.00")
    currency: str = "CNY"
    expires_on: date | None = Field(None, description="last day it may be used (none: never)")
    reference: str = Field("", max_length=200)

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, code: str) -> str:
        minor_unit(code)
        return code
