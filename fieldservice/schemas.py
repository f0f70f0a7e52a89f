"""Request and response bodies of the field-service API."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DeviceId = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
Priority = Literal["p1", "p2", "p3", "p4"]
StateName = Literal[
    "new",
    "qualified",
    "scheduled",
    "assigned",
    "accepted",
    "en_route",
    "in_progress",
    "on_hold",
    "completed",
    "incomplete",
    "closed",
    "canceled",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkOrderIn(_In):
    """A work order by hand: from an alert (alert_id) or about a device or site."""

    tenant_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    title: str = Field(default="", max_length=200)
    priority: Priority = "p3"
    alert_id: int | None = Field(default=None, ge=1, le=2**62)
    device_id: str | None = DeviceId
    site_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    description: str = Field(default="", max_length=4000)
    skills: list[str] = Field(default_factory=list, max_length=20)


class RequestIn(_In):
    """A customer's service request."""

    tenant_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    device_id: str | None = DeviceId
    site_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    priority: Priority = "p3"


class TransitionIn(_In):
    """A change of state; reason for on_hold, incomplete, canceled; hold kind for on_hold."""

    to: StateName
    reason: str = Field(default="", max_length=2000)
    hold: Literal["awaiting_parts", "awaiting_customer"] | None = None
    technician_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    scheduled_for: datetime | None = None


class TimeIn(_In):
    """Travel or work time of a technician."""

    kind: Literal["travel", "work"]
    started_at: datetime
    ended_at: datetime
    technician_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    note: str = Field(default="", max_length=2000)


class PartUseIn(_In):
    """A part from the price list."""

    part_no: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    quantity: Decimal = Field(gt=0, le=100000, max_digits=12, decimal_places=3)


class NoteIn(_In):
    """A note."""

    body: str = Field(min_length=1, max_length=4000)


class SignOffIn(_In):
    """The customer's sign-off."""

    name: str = Field(min_length=1, max_length=200)


class WorkOrderOut(BaseModel):
    """A work order in a list."""

    id: int
    number: str
    tenant_id: str
    site_id: str | None
    device_id: str | None
    contract_id: int | None
    source: str
    title: str
    description: str
    priority: str
    state: str
    hold_reason: str | None
    technician_id: str | None
    scheduled_for: datetime | None
    required_skills: list[str]
    response_target: int | None
    resolution_target: int | None
    response_due: datetime | None
    resolution_due: datetime | None
    response_breach: Decimal | None
    resolution_breach: Decimal | None
    paused_minutes: Decimal
    created_at: datetime
    created_by: str
    accepted_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    signed_off_at: datetime | None
    signoff_name: str | None


class EventOut(BaseModel):
    """One audit row: who did what when."""

    id: int
    work_order_id: int
    tenant_id: str
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    detail: dict[str, Any]


class ClockOut(BaseModel):
    """An SLA clock (a running clock is counted to now)."""

    clock: str
    due: datetime
    stopped_at: datetime | None
    paused_minutes: float
    breach_minutes: float
    breached: bool


class WorkOrderDetail(WorkOrderOut):
    """A work order with everything recorded on it."""

    events: list[EventOut]
    alert_ids: list[int]
    time_entries: list[dict[str, Any]]
    parts: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    sla: list[ClockOut]


class WorkOrderPage(BaseModel):
    """A page of work orders and the cursor of the next one."""

    items: list[WorkOrderOut]
    next_cursor: int | None


class SuggestionOut(BaseModel):
    """A technician's points for a work order."""

    technician_id: str
    score: float
    skill: float
    coverage: float
    load: float
    distance: float
    distance_km: float | None


class TechnicianIn(_In):
    """A technician: skills (device types and more), sites covered, base, sign-in key."""

    name: str = Field(min_length=1, max_length=200)
    skills: list[str] = Field(default_factory=list, max_length=50)
    sites: list[str] = Field(default_factory=list, max_length=500)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    work_start: time = time(8)
    work_end: time = time(18)
    api_key_id: str | None = Field(default=None, pattern=r"^[a-z0-9]{6,32}$")
    active: bool = True


class PartIn(_In):
    """A price-list entry (price in fen)."""

    description: str = Field(default="", max_length=500)
    unit_price: int = Field(ge=0, le=10**12)
    active: bool = True


class CalendarIn(_In):
    """Working hours and ISO weekdays (1 = Monday)."""

    name: str = Field(default="", max_length=200)
    work_start: time = time(9)
    work_end: time = time(18)
    weekdays: list[int] = Field(default=[1, 2, 3, 4, 5], min_length=1, max_length=7)


class CalendarYearIn(_In):
    """A year's public holidays and make-up working days (调休)."""

    holidays: list[date] = Field(default_factory=list, max_length=366)
    workdays: list[date] = Field(default_factory=list, max_length=366)


class TargetsIn(_In):
    """Business minutes to respond (accept) and to resolve (complete)."""

    response: int = Field(gt=0, le=10**6)
    resolution: int = Field(gt=0, le=10**6)


class CreditTierIn(_In):
    """A breach longer than over_minutes credits amount fen."""

    clock: Literal["response", "resolution"]
    over_minutes: int = Field(ge=0, le=10**6)
    amount: int = Field(gt=0, le=10**12)


class ContractIn(_In):
    """A service contract of a tenant."""

    tenant_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    subscription_id: int | None = Field(default=None, ge=1, le=2**62)
    name: str = Field(default="", max_length=200)
    calendar_id: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    start_date: date
    end_date: date | None = None
    device_types: list[str] = Field(default_factory=list, max_length=100)
    sites: list[str] = Field(default_factory=list, max_length=500)
    priorities: dict[Priority, TargetsIn] = Field(min_length=1)
    labour_rate: int = Field(default=0, ge=0, le=10**10)
    travel_rate: int = Field(default=0, ge=0, le=10**10)
    visit_price: int = Field(default=0, ge=0, le=10**10)
    included_visits: int = Field(default=0, ge=0, le=10**6)
    labour_covered: bool = False
    parts_covered: bool = False
    labour_vat: Decimal = Field(default=Decimal("0.06"), ge=0, lt=1, decimal_places=4)
    parts_vat: Decimal = Field(default=Decimal("0.13"), ge=0, lt=1, decimal_places=4)
    credit_tiers: list[CreditTierIn] = Field(default_factory=list, max_length=20)
    resolve_alerts: bool = True


class PolicyIn(_In):
    """Alerts of this rule / device type at or above min_severity open a work order."""

    tenant_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    rule: str | None = Field(default=None, min_length=1, max_length=200)
    device_type: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    min_severity: Literal["info", "warning", "major", "critical"] = "major"
    priority: Priority = "p2"
    enabled: bool = True


class ScheduleIn(_In):
    """A preventive visit every N months from next_due, for a device or a site."""

    contract_id: int = Field(ge=1, le=2**62)
    title: str = Field(min_length=1, max_length=200)
    every_months: int = Field(ge=1, le=120)
    next_due: date = Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))
    device_id: str | None = DeviceId
    site_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    priority: Priority = "p4"


class GenerateIn(_In):
    """How far ahead to create preventive work orders."""

    ahead_days: int = Field(default=30, ge=0, le=366)
