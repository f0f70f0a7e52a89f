"""The work-order state machine (pure): which transitions exist and what each one needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    """Where a work order is."""

    NEW = "new"
    QUALIFIED = "qualified"
    SCHEDULED = "scheduled"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    CLOSED = "closed"
    CANCELED = "canceled"


class HoldReason(StrEnum):
    """Why work is on hold; only waiting for the customer pauses the SLA clocks."""

    AWAITING_PARTS = "awaiting_parts"
    AWAITING_CUSTOMER = "awaiting_customer"


S = State
_CANCELABLE = frozenset({S.NEW, S.QUALIFIED, S.SCHEDULED, S.ASSIGNED, S.ACCEPTED, S.ON_HOLD})
TRANSITIONS: dict[State, frozenset[State]] = {
    S.NEW: frozenset({S.QUALIFIED}),
    S.QUALIFIED: frozenset({S.SCHEDULED, S.ASSIGNED}),
    S.SCHEDULED: frozenset({S.ASSIGNED}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.ACCEPTED}),
    S.ACCEPTED: frozenset({S.EN_ROUTE, S.IN_PROGRESS}),
    S.EN_ROUTE: frozenset({S.IN_PROGRESS}),
    S.IN_PROGRESS: frozenset({S.ON_HOLD, S.COMPLETED, S.INCOMPLETE}),
    S.ON_HOLD: frozenset({S.IN_PROGRESS}),
    S.COMPLETED: frozenset({S.CLOSED}),
    S.INCOMPLETE: frozenset({S.SCHEDULED, S.ASSIGNED, S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELED: frozenset(),
}
TRANSITIONS = {s: t | {S.CANCELED} if s in _CANCELABLE else t for s, t in TRANSITIONS.items()}
NEEDS_REASON = frozenset({S.ON_HOLD, S.INCOMPLETE, S.CANCELED})
OPEN = frozenset(State) - {S.COMPLETED, S.INCOMPLETE, S.CLOSED, S.CANCELED}


class TransitionError(ValueError):
    """A transition missing what it needs (a reason, a technician ...)."""


class NotAllowed(TransitionError):
    """A transition the state machine does not have from the current state."""


@dataclass(frozen=True, kw_only=True)
class Move:
    """A requested change of state with what it carries."""

    to: State
    reason: str = ""
    hold: HoldReason | None = None
    technician_id: str | None = None
    scheduled_for: object | None = None


def check(current: State, move: Move) -> None:
    """Raise TransitionError unless `move` is allowed from `current` with what it needs."""
    if move.to not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
        raise NotAllowed(f"cannot go from {current} to {move.to}; allowed: {allowed}")
    if move.to in NEEDS_REASON and not move.reason.strip():
        raise TransitionError(f"going to {move.to} needs a reason")
    if move.to is S.ON_HOLD and move.hold is None:
        raise TransitionError("on_hold needs hold: awaiting_parts or awaiting_customer")
    if move.to is S.ASSIGNED and not move.technician_id:
        raise TransitionError("assigning needs a technician_id")
    if move.to is S.SCHEDULED and move.scheduled_for is None:
        raise TransitionError("scheduling needs scheduled_for")


def allowed(current: State) -> list[str]:
    """The states reachable in one step, sorted."""
    return sorted(TRANSITIONS[current])
