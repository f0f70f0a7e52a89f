"""Work-order use cases: create (by hand, from an alert, from a request), transitions with
their audit rows and SLA clocks, queries. Each public function is one transaction.

Billing's invoice run calls `invoice_lines` (re-exported from fieldservice.invoicing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fieldservice import catalog, clock, places, timeline
from fieldservice import catalog_repository as crepo
from fieldservice import repository as repo
from fieldservice.invoicing import invoice_lines
from fieldservice.models import (
    Actor,
    Conflict,
    Forbidden,
    NotFound,
    calendar_json,
    check_priority,
    parse_targets,
)
from fieldservice.sla import Step, deadlines
from fieldservice.states import Move, State, check
from servitize.db import Connection, Pool, transaction

__all__ = [
    "Conflict",
    "NewOrder",
    "attach",
    "create",
    "create_in",
    "detail",
    "events_after",
    "invoice_lines",
    "list_orders",
    "transition",
]

# What a technician may do to its own work orders; everything else is the dispatcher's.
TECHNICIAN_MOVES = frozenset(
    {
        State.ACCEPTED,
        State.EN_ROUTE,
        State.IN_PROGRESS,
        State.ON_HOLD,
        State.COMPLETED,
        State.INCOMPLETE,
    }
)
STOPS = {State.ACCEPTED: "accepted_at", State.COMPLETED: "completed_at", State.CLOSED: "closed_at"}


@dataclass(frozen=True, kw_only=True)
class NewOrder:
    """What a new work order starts from."""

    tenant_id: str
    title: str
    priority: str
    source: str
    device_id: str | None = None
    site_id: str | None = None
    description: str = ""
    alert_id: int | None = None
    skills: tuple[str, ...] = ()
    # a preventive visit: its schedule, due date and planned time (no SLA clocks)
    schedule_id: int | None = None
    due_date: date | None = None
    scheduled_for: datetime | None = None

    def __post_init__(self) -> None:
        check_priority(self.priority)
        if not 1 <= len(self.title.strip()) <= 200:
            raise ValueError("a work order needs a title of 1-200 characters")


async def create(pool: Pool, new: NewOrder, actor: Actor) -> dict[str, Any]:
    """Create a work order in its own transaction."""
    if actor.tenant_id is not None and actor.tenant_id != new.tenant_id:
        raise NotFound(f"tenant {new.tenant_id} not found")
    async with transaction(pool) as conn:
        row = await create_in(conn, new, actor.name)
    return await detail(pool, row["id"], actor)


async def checked_place(
    conn: Connection, tenant_id: str, device_id: str | None, site_id: str | None
) -> places.Place | None:
    """The device's (else the site's) place, NotFound when it is not the tenant's."""
    if device_id is not None:
        dev = await places.of_device(conn, device_id)
        if dev is None or dev.tenant_id != tenant_id:
            raise NotFound(f"device {device_id} not found")
        return dev
    if site_id is not None:
        site = await places.of_site(conn, site_id)
        if site is None or site.tenant_id != tenant_id:
            raise NotFound(f"site {site_id} not found")
        return site
    return None


async def create_in(conn: Connection, new: NewOrder, actor_name: str) -> Any:
    """Create a work order inside the caller's transaction; deadlines are fixed here."""
    zone = await places.zone(conn, new.tenant_id)
    if zone is None:
        raise NotFound(f"tenant {new.tenant_id} not found")
    place = await checked_place(conn, new.tenant_id, new.device_id, new.site_id)
    site_id = place.site_id if place else None
    device_type = place.device_type if place else None
    at = clock.now()
    fields: dict[str, Any] = {
        "number": await repo.next_number(conn, at.astimezone(ZoneInfo(zone)).year),
        "tenant_id": new.tenant_id,
        "site_id": site_id,
        "device_id": new.device_id,
        "source": new.source,
        "title": new.title.strip(),
        "description": new.description,
        "priority": new.priority,
        "required_skills": sorted({*new.skills, *([device_type] if device_type else [])}),
        "created_at": at,
        "created_by": actor_name,
    }
    local_day = at.astimezone(ZoneInfo(zone)).date()
    contract = await crepo.matching_contract(conn, new.tenant_id, device_type, site_id, local_day)
    fields |= {
        k: v
        for k, v in (
            ("schedule_id", new.schedule_id),
            ("due_date", new.due_date),
            ("scheduled_for", new.scheduled_for),
        )
        if v is not None
    }
    if contract is not None and new.source == "preventive":
        fields |= {"contract_id": contract["id"], "resolve_alerts": contract["resolve_alerts"]}
    elif contract is not None:
        fields |= await _sla_fields(conn, contract, new.priority, zone, at)
    row = await repo.insert(conn, "fs_work_orders", fields)
    await repo.insert_event(
        conn,
        row,
        at,
        actor_name,
        "created",
        to_state=State.NEW.value,
        source=new.source,
        priority=new.priority,
    )
    if new.alert_id is not None:
        await attach(conn, row, new.alert_id, actor_name, at)
    return row


async def _sla_fields(
    conn: Connection, contract: Any, priority: str, zone: str, at: datetime
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "contract_id": contract["id"],
        "resolve_alerts": contract["resolve_alerts"],
    }
    targets = parse_targets(contract["priorities"]).get(priority)
    if targets is None:
        return out
    cal = await catalog.load_calendar(conn, contract["calendar_id"], zone)
    due = deadlines(cal, at, targets.response, targets.resolution)
    return out | {
        "response_target": targets.response,
        "resolution_target": targets.resolution,
        "sla_calendar": calendar_json(cal),
        "response_due": due.response_due,
        "resolution_due": due.resolution_due,
    }


async def attach(conn: Connection, wo: Any, alert_id: int, actor_name: str, at: datetime) -> bool:
    """Link an alert to a work order, audited; False when it already was."""
    done = await repo.attach_alert(conn, wo["id"], alert_id)
    if done:
        await repo.insert_event(conn, wo, at, actor_name, "alert_attached", alert_id=alert_id)
    return done


async def locked(conn: Connection, wo_id: int, actor: Actor) -> Any:
    """A work order in the caller's scope, locked; NotFound otherwise."""
    row = await repo.work_order(conn, wo_id, actor.tenant_id, actor.technician_id, lock=True)
    if row is None or (actor.is_technician and actor.technician_id is None):
        raise NotFound(f"work order {wo_id} not found")
    return row


def _may(actor: Actor, to: State) -> None:
    if actor.is_customer or actor.role in ("viewer", "finance"):
        raise Forbidden(f"role {actor.role!r} may not change a work order's state")
    if actor.is_technician and to not in TECHNICIAN_MOVES:
        raise Forbidden(f"a technician may not move a work order to {to}")


async def transition(pool: Pool, wo_id: int, move: Move, actor: Actor) -> dict[str, Any]:
    """Move a work order, audited with who and when; completing may resolve its alerts."""
    async with transaction(pool) as conn:
        wo = await locked(conn, wo_id, actor)
        _may(actor, move.to)
        current = State(wo["state"])
        check(current, move)
        if move.technician_id is not None:
            await _check_technician(conn, move.technician_id)
        at = clock.now()
        fields = await _fields(conn, wo, move, at)
        await repo.update(conn, "fs_work_orders", ("id", wo_id), fields)
        detail_ = {k: v for k, v in (("reason", move.reason), ("hold", move.hold)) if v}
        if move.technician_id:
            detail_["technician_id"] = move.technician_id
        await repo.insert_event(
            conn,
            wo,
            at,
            actor.name,
            "transition",
            from_state=current.value,
            to_state=move.to.value,
            **detail_,
        )
        alerts = await repo.alert_ids(conn, wo_id)
    if move.to is State.COMPLETED and wo["resolve_alerts"]:
        await _resolve_alerts(pool, alerts, actor.name, wo["number"])
    return await detail(pool, wo_id, actor)


async def _check_technician(conn: Connection, technician_id: str) -> None:
    tech = await crepo.one(conn, "fs_technicians", "id", technician_id)
    if tech is None or not tech["active"]:
        raise NotFound(f"technician {technician_id} not found or inactive")


async def _fields(conn: Connection, wo: Any, move: Move, at: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {"state": move.to.value, "updated_at": at, "hold_reason": None}
    if move.to is State.ON_HOLD:
        fields["hold_reason"] = move.hold.value if move.hold else None
    if move.technician_id is not None:
        fields["technician_id"] = move.technician_id
    if move.scheduled_for is not None:
        fields["scheduled_for"] = move.scheduled_for
    stamp = STOPS.get(move.to)
    if stamp and wo[stamp] is None:
        fields[stamp] = at
    if wo["sla_calendar"] is not None and move.to in (
        State.ACCEPTED,
        State.EN_ROUTE,
        State.COMPLETED,
        State.IN_PROGRESS,
    ):
        history = await timeline.history(conn, wo["id"]) + [Step(at=at, to=move.to, hold=move.hold)]
        fields |= timeline.breaches(wo, history, at)
    return fields


async def _resolve_alerts(pool: Pool, alert_ids: list[int], actor: str, number: str) -> None:
    from analytics.alerts import service as alerts
    from analytics.alerts.models import Conflict as AlertConflict

    for alert_id in alert_ids:
        try:
            await alerts.resolve(pool, alert_id, actor, None, note=f"work order {number} completed")
        except AlertConflict:
            continue  # already closed


async def detail(pool: Pool, wo_id: int, actor: Actor) -> dict[str, Any]:
    """One work order with its audit trail, alerts, time, parts, notes, attachments, clocks."""
    async with pool.acquire() as conn:
        row = await repo.work_order(conn, wo_id, actor.tenant_id, actor.technician_id, lock=False)
        if row is None or (actor.is_technician and actor.technician_id is None):
            raise NotFound(f"work order {wo_id} not found")
        out = view(row)
        out["events"] = [dict(r) for r in await repo.events(conn, wo_id)]
        out["alert_ids"] = await repo.alert_ids(conn, wo_id)
        for key, table in (
            ("time_entries", "fs_time_entries"),
            ("parts", "fs_part_uses"),
            ("notes", "fs_notes"),
            ("attachments", "fs_attachments"),
        ):
            out[key] = [dict(r) for r in await repo.children(conn, table, wo_id)]
        out["sla"] = timeline.sla_view(row, await timeline.history(conn, wo_id), clock.now())
    return out


def view(row: Any) -> dict[str, Any]:
    """A work-order row as the API lists it."""
    out = dict(row)
    out.pop("sla_calendar", None)
    return out


async def list_orders(
    pool: Pool,
    actor: Actor,
    *,
    tenant_id: str | None = None,
    state: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """A page of the work orders the caller may see, newest first."""
    if state is not None:
        State(state)
    if actor.is_technician and actor.technician_id is None:
        return []
    scope = actor.tenant_id if actor.tenant_id is not None else tenant_id
    async with pool.acquire() as conn:
        rows = await repo.list_work_orders(
            conn, scope, actor.technician_id, state, before_id, limit
        )
    return [view(r) for r in rows]


async def events_after(
    pool: Pool, actor: Actor, last_id: int, limit: int = 500
) -> list[dict[str, Any]]:
    """The work-order change feed after an event id, within the caller's scope."""
    async with pool.acquire() as conn:
        rows = await repo.events_after(conn, last_id, actor.tenant_id, actor.technician_id, limit)
    return [dict(r) for r in rows]
