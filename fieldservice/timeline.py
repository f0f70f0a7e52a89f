"""A work order's history as SLA steps, and its clocks (stored breaches, the API view)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fieldservice import repository as repo
from fieldservice.models import calendar_from_json
from fieldservice.sla import Deadlines, Step, clocks
from fieldservice.states import HoldReason, State
from servitize.db import Connection


async def history(conn: Connection, wo_id: int) -> list[Step]:
    """A work order's transitions as SLA steps."""
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


# Work orders with SLA clocks created in [start, end), with their state history in one row.
_MONTH = """
SELECT w.id, w.number, w.title, w.priority, w.tenant_id, w.state, w.created_at,
       w.accepted_at, w.completed_at, w.response_breach, w.resolution_breach,
       w.sla_calendar::text AS calendar, w.response_due, w.resolution_due,
       coalesce(array_agg(e.at ORDER BY e.id) FILTER (WHERE e.to_state IS NOT NULL), '{}') AS ats,
       coalesce(array_agg(e.to_state ORDER BY e.id) FILTER (WHERE e.to_state IS NOT NULL), '{}')
           AS tos,
       coalesce(array_agg(e.detail->>'hold' ORDER BY e.id) FILTER (WHERE e.to_state IS NOT NULL),
                '{}') AS holds
FROM fs_work_orders w LEFT JOIN fs_events e ON e.work_order_id = w.id
     AND ($1::text[] IS NULL OR e.tenant_id = ANY($1::text[]))
WHERE ($1::text[] IS NULL OR w.tenant_id = ANY($1::text[]))
  AND w.created_at >= $2 AND w.created_at < $3
GROUP BY w.id ORDER BY w.id
"""


def steps(ats: list[datetime], tos: list[str], holds: list[str | None]) -> list[Step]:
    """A history from its aggregated columns."""
    return [
        Step(at=a, to=State(t), hold=HoldReason(h) if h else None)
        for a, t, h in zip(ats, tos, holds, strict=True)
    ]


async def month_rows(
    conn: Connection, tenant_ids: list[str] | None, start: datetime, end: datetime
) -> list[Any]:
    """Work orders created in [start, end) with their histories, in one query."""
    return list(await conn.fetch(_MONTH, tenant_ids, start, end))


def evaluate(rows: list[Any], now: datetime) -> dict[int, tuple[float | None, float | None]]:
    """Each work order's response and resolution breach at `now`: the breach once the clock
    stopped or is already late, None while it runs on time (or without a clock)."""
    calendars: dict[str, Any] = {}
    out: dict[int, tuple[float | None, float | None]] = {}
    for r in rows:
        if r["calendar"] is None:
            out[r["id"]] = (None, None)
            continue
        cal = calendars.get(r["calendar"])
        if cal is None:
            cal = calendars[r["calendar"]] = calendar_from_json(json.loads(r["calendar"]))
        d = Deadlines(response_due=r["response_due"], resolution_due=r["resolution_due"])
        pair = clocks(cal, d, steps(r["ats"], r["tos"], r["holds"]), now)
        decided = [c.breach_minutes if c.stopped_at or c.breached else None for c in pair]
        out[r["id"]] = (decided[0], decided[1])
    return out
