"""A work order's history as SLA steps, and its clocks (stored breaches, the API view)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fieldservice import repository as repo
from fieldservice.models import calendar_from_json
from fieldservice.sla import Deadlines, Step, clocks
from fieldservice.states import HoldReason, State
from servitize.db import Connection


async def history(conn: Connection, wo_id: int) -> list[Step]:
    rows = await repo.events(conn, wo_id)
    return [
        Step(
            at=r["at"],
            to=State(r["to_state"]),
            hold=HoldReason(r["detail"]["hold"]) if r["detail"].get("hold") else None,
        )
        for r in rows
        if r["to_state"]
    ]


def breaches(wo: Any, history: list[Step], at: datetime) -> dict[str, Any]:
    """Stored breach sizes of the clocks that have stopped, and the pause so far."""
    cal = calendar_from_json(wo["sla_calendar"])
    d = Deadlines(response_due=wo["response_due"], resolution_due=wo["resolution_due"])
    response, resolution = clocks(cal, d, history, at)
    out: dict[str, Any] = {"paused_minutes": resolution.paused_minutes}
    if response.stopped_at is not None and wo["response_breach"] is None:
        out["response_breach"] = response.breach_minutes
    if resolution.stopped_at is not None:
        out["resolution_breach"] = resolution.breach_minutes
    return out


def sla_view(wo: Any, history: list[Step], now: datetime) -> list[dict[str, Any]]:
    """Both clocks as the API shows them (running clocks counted to now)."""
    if wo["sla_calendar"] is None:
        return []
    cal = calendar_from_json(wo["sla_calendar"])
    d = Deadlines(response_due=wo["response_due"], resolution_due=wo["resolution_due"])
    return [
        {
            "clock": c.name.value,
            "due": c.due,
            "stopped_at": c.stopped_at,
            "paused_minutes": c.paused_minutes,
            "breach_minutes": c.breach_minutes,
            "breached": c.breached,
        }
        for c in clocks(cal, d, history, now)
    ]
