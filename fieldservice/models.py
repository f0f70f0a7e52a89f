"""Field-service domain objects: errors, the caller, contracts and priorities."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

from fieldservice.charges import CreditTier, Pricing
from fieldservice.sla import ClockName
from fieldservice.workcalendar import BusinessCalendar

PRIORITIES = ("p1", "p2", "p3", "p4")
SOURCES = ("alert", "policy", "request", "manual", "preventive")
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class FieldServiceError(Exception):
    """Base of the field-service errors."""


class NotFound(FieldServiceError):
    """No such object for this caller (another tenant's, or not assigned to this technician)."""


class Conflict(FieldServiceError):
    """The object's state does not allow the change."""


class Forbidden(FieldServiceError):
    """The caller's role may not do this to this work order."""


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who acts: audit name, tenant scope, and for a technician key the technician it is."""

    name: str
    role: str
    tenant_id: str | None
    technician_id: str | None = None

    @property
    def is_technician(self) -> bool:
        """A technician sees and updates only its assigned work orders."""
        return self.role == "technician"

    @property
    def is_customer(self) -> bool:
        """A tenant's user: requests, follows, notes and signs off."""
        return self.role == "customer"


@dataclass(frozen=True, slots=True)
class Targets:
    """Response and resolution targets of a priority, in business minutes."""

    response: int
    resolution: int

    def __post_init__(self) -> None:
        if not 0 < self.response <= self.resolution:
            raise ValueError("targets need 0 < response <= resolution minutes")


def check_priority(priority: str) -> str:
    """Validate a priority name."""
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
    return priority


def check_part_no(part_no: str) -> str:
    """Validate a price-list number."""
    if not _PART.match(part_no):
        raise ValueError(f"invalid part number {part_no!r}")
    return part_no


def parse_targets(raw: dict[str, Any]) -> dict[str, Targets]:
    """{"p1": {"response": 60, "resolution": 240}} -> validated targets."""
    out = {
        check_priority(p): Targets(int(t["response"]), int(t["resolution"])) for p, t in raw.items()
    }
    if not out:
        raise ValueError("a contract needs at least one priority with targets")
    return out


def parse_tiers(raw: list[dict[str, Any]]) -> tuple[CreditTier, ...]:
    """Credit tiers from their JSON form."""
    return tuple(
        CreditTier(
            clock=ClockName(t["clock"]),
            over_minutes=int(t["over_minutes"]),
            amount=int(t["amount"]),
        )
        for t in raw
    )


def pricing_of(row: Any) -> Pricing:
    """A contract row's prices and coverage."""
    return Pricing(
        labour_rate=row["labour_rate"],
        travel_rate=row["travel_rate"],
        visit_price=row["visit_price"],
        included_visits=row["included_visits"],
        labour_covered=row["labour_covered"],
        parts_covered=row["parts_covered"],
        labour_vat=Decimal(row["labour_vat"]),
        parts_vat=Decimal(row["parts_vat"]),
        credit_tiers=parse_tiers(row["credit_tiers"]),
    )


def calendar_of(row: Any, days: list[Any], timezone: str) -> BusinessCalendar:
    """A calendar row with its configured days, in the tenant's zone."""
    return BusinessCalendar(
        timezone=timezone,
        start=row["work_start"],
        end=row["work_end"],
        weekdays=frozenset(d - 1 for d in row["weekdays"]),
        holidays=frozenset(d["day"] for d in days if d["kind"] == "holiday"),
        workdays=frozenset(d["day"] for d in days if d["kind"] == "workday"),
    )


def calendar_json(cal: BusinessCalendar) -> dict[str, Any]:
    """The calendar a work order's deadlines were computed with (kept on the work order)."""
    return {
        "timezone": cal.timezone,
        "start": cal.start.isoformat(),
        "end": cal.end.isoformat(),
        "weekdays": sorted(cal.weekdays),
        "holidays": sorted(d.isoformat() for d in cal.holidays),
        "workdays": sorted(d.isoformat() for d in cal.workdays),
    }


def calendar_from_json(raw: dict[str, Any]) -> BusinessCalendar:
    """Inverse of calendar_json."""
    return BusinessCalendar(
        timezone=raw["timezone"],
        start=time.fromisoformat(raw["start"]),
        end=time.fromisoformat(raw["end"]),
        weekdays=frozenset(raw["weekdays"]),
        holidays=frozenset(date.fromisoformat(d) for d in raw["holidays"]),
        workdays=frozenset(date.fromisoformat(d) for d in raw["workdays"]),
    )
