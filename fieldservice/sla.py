"""SLA clocks (pure): response and resolution deadlines in business time, pauses, breaches.

Deadlines are computed once, when the work order is created, from the contract's targets and
its calendar (a later contract change does not move them). Time on hold awaiting the customer
does not count: a breach is the business time past the deadline minus the paused business time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fieldservice.states import HoldReason, State
from fieldservice.workcalendar import BusinessCalendar


class ClockName(StrEnum):
    """The two promises of a contract priority."""

    RESPONSE = "response"
    RESOLUTION = "resolution"


@dataclass(frozen=True, kw_only=True)
class Step:
    """One transition of a work order's history."""

    at: datetime
    to: State
    hold: HoldReason | None = None


@dataclass(frozen=True, kw_only=True)
class Deadlines:
    """When the response and the resolution are due."""

    response_due: datetime
    resolution_due: datetime


@dataclass(frozen=True, kw_only=True)
class Clock:
    """A clock's verdict at `now` (or when it stopped)."""

    name: ClockName
    due: datetime
    stopped_at: datetime | None
    paused_minutes: float
    breach_minutes: float

    @property
    def breached(self) -> bool:
        """Whether the promise was (or already is) broken."""
        return self.breach_minutes > 0


RESPONSE_STOPS = frozenset({State.ACCEPTED, State.EN_ROUTE})


def deadlines(
    cal: BusinessCalendar, created: datetime, response_min: float, resolution_min: float
) -> Deadlines:
    """Both deadlines of a work order created at `created`."""
    if not 0 < response_min <= resolution_min:
        raise ValueError("targets need 0 < response <= resolution minutes")
    return Deadlines(
        response_due=cal.add(created, response_min),
        resolution_due=cal.add(created, resolution_min),
    )


def pauses(history: list[Step]) -> list[tuple[datetime, datetime | None]]:
    """Intervals on hold awaiting the customer (the last may still be open)."""
    out: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    for step in sorted(history, key=lambda s: s.at):
        waiting = step.to is State.ON_HOLD and step.hold is HoldReason.AWAITING_CUSTOMER
        if waiting and start is None:
            start = step.at
        elif not waiting and start is not None:
            out.append((start, step.at))
            start = None
    if start is not None:
        out.append((start, None))
    return out


def _stop(history: list[Step], stops: frozenset[State]) -> datetime | None:
    return min((s.at for s in history if s.to in stops), default=None)


def clock(
    cal: BusinessCalendar,
    name: ClockName,
    due: datetime,
    history: list[Step],
    now: datetime,
) -> Clock:
    """Evaluate a clock over a history: stopped by its stop state, else running at `now`."""
    stops = RESPONSE_STOPS if name is ClockName.RESPONSE else frozenset({State.COMPLETED})
    stopped = _stop(history, stops)
    end = stopped or now
    paused = sum(cal.minutes(a, min(b or end, end)) for a, b in pauses(history) if a < end)
    breach = max(cal.minutes(due, end) - paused, 0.0)
    return Clock(
        name=name,
        due=due,
        stopped_at=stopped,
        paused_minutes=round(paused, 2),
        breach_minutes=round(breach, 2),
    )


def clocks(cal: BusinessCalendar, d: Deadlines, history: list[Step], now: datetime) -> list[Clock]:
    """The response and the resolution clock."""
    return [
        clock(cal, ClockName.RESPONSE, d.response_due, history, now),
        clock(cal, ClockName.RESOLUTION, d.resolution_due, history, now),
    ]
