"""Alert domain objects: the device an alert is about, states, errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from servitize import errors

ACTIONS = (
    "opened",
    "reactivated",
    "escalated",
    "cleared",
    "acknowledged",
    "resolved",
    "closed",
    "commented",
)


class Severity(StrEnum):
    """How bad an alert is, lowest first (the engine's SEVERITIES, in the same order)."""

    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"

    @classmethod
    def of_rank(cls, rank: int) -> Severity:
        """0 (info) .. 3 (critical), as trackers count severity."""
        return list(cls)[rank]


class AlertState(StrEnum):
    """One word for an alert in the list view."""

    ACTIVE_UNACKNOWLEDGED = "active_unacknowledged"
    ACTIVE_ACKNOWLEDGED = "active_acknowledged"
    CLEARED_UNACKNOWLEDGED = "cleared_unacknowledged"
    CLEARED_ACKNOWLEDGED = "cleared_acknowledged"
    CLOSED = "closed"


class StateFilter(StrEnum):
    """The state filters of the alert list."""

    OPEN = "open"
    ACTIVE = "active"
    CLEARED = "cleared"
    UNACKNOWLEDGED = "unacknowledged"
    CLOSED = "closed"


class AlertError(errors.DomainError):
    """Base of the alert service's errors."""


class NotFound(AlertError, errors.NotFound):
    """No such object for this caller (another tenant's object is 'not found' too)."""


class Conflict(AlertError, errors.Conflict):
    """The object's state does not allow the change (e.g. acknowledging a closed alert)."""


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """What an alert needs to know about its device."""

    id: str
    tenant_id: str
    site_id: str | None
    device_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertFilter:
    """List filters; None means any. `before_id` is the pagination cursor."""

    tenant_id: str | None = None
    state: str | None = None
    severity: str | None = None
    site_id: str | None = None
    device_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in set(StateFilter):
            raise ValueError(f"unknown state filter {self.state!r}")
        if self.severity is not None and self.severity not in set(Severity):
            raise ValueError(f"unknown severity {self.severity!r}")
        if not 1 <= self.limit <= 500:
            raise ValueError("limit must be 1..500")


def alert_state(active: bool, acknowledged: bool, closed: bool) -> AlertState:
    """One word for the list view: active_unacknowledged, cleared_acknowledged, closed ..."""
    if closed:
        return AlertState.CLOSED
    ack = "acknowledged" if acknowledged else "unacknowledged"
    return AlertState(f"{'active' if active else 'cleared'}_{ack}")


def device_time(epoch_s: float) -> datetime:
    """A detector timestamp (epoch seconds) as an aware datetime."""
    return datetime.fromtimestamp(float(epoch_s), UTC)
