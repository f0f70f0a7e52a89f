"""Alert domain objects: the device an alert is about, states, errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from analytics.detectors.rules import SEVERITIES
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


@dataclass(frozen=True, slots=True)
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
        if self.state not in (None, "open", "active", "cleared", "unacknowledged", "closed"):
            raise ValueError(f"unknown state filter {self.state!r}")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if not 1 <= self.limit <= 500:
            raise ValueError("limit must be 1..500")


def alert_state(active: bool, acknowledged: bool, closed: bool) -> str:
    """One word for the list view: active_unacknowledged, cleared_acknowledged, closed ..."""
    if closed:
        return "closed"
    ack = "acknowledged" if acknowledged else "unacknowledged"
    return f"{'active' if active else 'cleared'}_{ack}"


def device_time(epoch_s: float) -> datetime:
    """A detector timestamp (epoch seconds) as an aware datetime."""
    return datetime.fromtimestamp(float(epoch_s), UTC)
