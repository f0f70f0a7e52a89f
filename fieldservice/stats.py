"""Monthly service figures (pure): counts, mean time to respond / repair, SLA compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class OrderFacts:
    """What the monthly figures need of one work order."""

    state: str
    created_at: datetime
    accepted_at: datetime | None = None
    completed_at: datetime | None = None
    response_breach: float | None = None
    resolution_breach: float | None = None


@dataclass(frozen=True, kw_only=True)
class Summary:
    """A month's figures; means in wall-clock minutes, compliance in percent (None = no data)."""

    created: int
    completed: int
    open: int
    canceled: int
    mtta_minutes: float | None
    mttr_minutes: float | None
    response_compliance: float | None
    resolution_compliance: float | None
    response_breaches: int
    resolution_breaches: int


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _met(breaches: list[float]) -> float | None:
    if not breaches:
        return None
    return round(100 * sum(1 for b in breaches if b <= 0) / len(breaches), 2)


def summarize(orders: list[OrderFacts]) -> Summary:
    """Figures over the work orders created in the month."""
    respond = [
        (o.accepted_at - o.created_at).total_seconds() / 60
        for o in orders
        if o.accepted_at is not None
    ]
    repair = [
        (o.completed_at - o.created_at).total_seconds() / 60
        for o in orders
        if o.completed_at is not None
    ]
    response = [o.response_breach for o in orders if o.response_breach is not None]
    resolution = [o.resolution_breach for o in orders if o.resolution_breach is not None]
    done = {"completed", "closed", "incomplete"}
    return Summary(
        created=len(orders),
        completed=sum(1 for o in orders if o.completed_at is not None),
        open=sum(1 for o in orders if o.state not in done | {"canceled"}),
        canceled=sum(1 for o in orders if o.state == "canceled"),
        mtta_minutes=_mean(respond),
        mttr_minutes=_mean(repair),
        response_compliance=_met(response),
        resolution_compliance=_met(resolution),
        response_breaches=sum(1 for b in response if b > 0),
        resolution_breaches=sum(1 for b in resolution if b > 0),
    )
