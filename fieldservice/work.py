"""Work recorded on a work order: time entries, parts from the price list, notes, attachments,
the customer's sign-off, and technician suggestions. Each public function is one transaction."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from fieldservice import catalog_repository as crepo
from fieldservice import clock, places
from fieldservice import repository as repo
from fieldservice.models import Actor, Conflict, Forbidden, NotFound, check_part_no
from fieldservice.service import locked
from fieldservice.states import State
from fieldservice.suggest import Candidate, Need, Suggestion, rank
from servitize.db import Pool, transaction

MAX_ATTACHMENT_BYTES = 768 * 1024
# Work cannot be recorded on these.
FINAL = frozenset({State.CLOSED.value, State.CANCELED.value})
SIGNABLE = frozenset({State.COMPLETED.value, State.INCOMPLETE.value})


def _no_customer(actor: Actor, what: str) -> None:
    if actor.is_customer or actor.role in ("viewer", "finance"):
        raise Forbidden(f"role {actor.role!r} may not record {what}")


async def add_time(
    pool: Pool,
    wo_id: int,
    actor: Actor,
    *,
    kind: str,
    started_at: datetime,
    ended_at: datetime,
    technician_id: str | None = None,
    note: str = "",
) -> dict[str, Any]:
    """Record travel or work time; overlapping a technician's other entries is refused."""
    _no_customer(actor, "time")
    if kind not in ("travel", "work"):
        raise ValueError("time entry kind must be travel or work")
    if ended_at <= started_at:
        raise ValueError("a time entry must end after it starts")
    if ended_at > clock.now():
        raise ValueError("a time entry cannot end in the future")
    async with transaction(pool) as conn:
        wo = await locked(conn, wo_id, actor)
        _open_for_work(wo)
        tech = actor.technician_id or technician_id or wo["technician_id"]
        if tech is None or await crepo.lock_technician(conn, tech) is None:
            raise ValueError("a time entry needs a technician (assign one first)")
        clash = await repo.overlapping(conn, tech, started_at, ended_at)
        if clash is not None:
            raise Conflict(
                f"overlaps time entry {clash['id']} ({clash['started_at'].isoformat()} - "
                f"{clash['ended_at'].isoformat()}) of technician {tech}"
            )
        fields = {
            "work_order_id": wo_id,
            "technician_id": tech,
            "kind": kind,
            "started_at": started_at,
            "ended_at": ended_at,
            "note": note,
            "created_by": actor.name,
        }
        row = await repo.insert(conn, "fs_time_entries", fields)
        await repo.insert_event(
            conn,
            wo,
            clock.now(),
            actor.name,
            "time_added",
            entry_id=row["id"],
            kind=kind,
            minutes=(ended_at - started_at).total_seconds() / 60,
        )
    return dict(row)


def _open_for_work(wo: Any) -> None:
    if wo["state"] in FINAL:
        raise Conflict(f"work order {wo['number']} is {wo['state']}")


async def add_part(
    pool: Pool, wo_id: int, actor: Actor, *, part_no: str, quantity: Decimal
) -> dict[str, Any]:
    """Record a part used, at its current list price; unknown parts are refused."""
    _no_customer(actor, "parts")
    check_part_no(part_no)
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    async with transaction(pool) as conn:
        wo = await locked(conn, wo_id, actor)
        _open_for_work(wo)
        part = await crepo.one(conn, "fs_parts", "part_no", part_no)
        if part is None or not part["active"]:
            raise ValueError(f"part {part_no} is not in the price list")
        at = clock.now()
        fields = {
            "work_order_id": wo_id,
            "part_no": part_no,
            "description": part["description"],
            "quantity": quantity,
            "unit_price": part["unit_price"],
            "at": at,
            "created_by": actor.name,
        }
        row = await repo.insert(conn, "fs_part_uses", fields)
        await repo.insert_event(
            conn,
            wo,
            at,
            actor.name,
            "part_added",
            part_no=part_no,
            quantity=str(quantity),
            unit_price=part["unit_price"],
        )
    return dict(row)


async def add_note(pool: Pool, wo_id: int, actor: Actor, body: str) -> dict[str, Any]:
    """A note from anyone who can see the work order (customers too)."""
    body = body.strip()
    if not 1 <= len(body) <= 4000:
        raise ValueError("a note needs 1-4000 characters")
    if actor.role in ("viewer", "finance"):
        raise Forbidden(f"role {actor.role!r} may not write notes")
    async with transaction(pool) as conn:
        wo = await locked(conn, wo_id, actor)
        at = clock.now()
        row = await repo.insert(
            conn, "fs_notes", {"work_order_id": wo_id, "at": at, "author": actor.name, "body": body}
        )
        await repo.insert_event(conn, wo, at, actor.name, "note_added", note_id=row["id"])
    return dict(row)


async def sign_off(pool: Pool, wo_id: int, actor: Actor, name: str) -> dict[str, Any]:
    """The customer confirms the work (once, after completion)."""
    if not (actor.is_customer or actor.role in ("operator", "admin")):
        raise Forbidden(f"role {actor.role!r} may not sign off")
    if not 1 <= len(name.strip()) <= 200:
        raise ValueError("sign-off needs the signer's name")
    async with transaction(pool) as conn:
        wo = await locked(conn, wo_id, actor)
        if wo["state"] not in SIGNABLE and wo["state"] != State.CLOSED.value:
            raise Conflict(f"work order {wo['number']} is {wo['state']}, not completed")
        if wo["signed_off_at"] is not None:
            raise Conflict(f"work order {wo['number']} is already signed off")
        at = clock.now()
        await repo.update(
            conn,
            "fs_work_orders",
            ("id", wo_id),
            {
                "signed_off_at": at,
                "signed_off_by": actor.name,
                "signoff_name": name.strip(),
                "updated_at": at,
            },
        )
        await repo.insert_event(conn, wo, at, actor.name, "signed_off", name=name.strip())
    return {"id": wo_id, "signed_off_at": at, "signoff_name": name.strip()}


async def add_attachment(
    pool: Pool, wo_id: int, actor: Actor, *, name: str, content_type: str, data: bytes
) -> dict[str, Any]:
    """Store a photo or document (at most MAX_ATTACHMENT_BYTES)."""
    if actor.role in ("viewer", "finance"):
        raise Forbidden(f"role {actor.role!r} may not attach files")
    if not data:
        raise ValueError("an attachment must not be empty")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValueError(f"an attachment may have at most {MAX_ATTACHMENT_BYTES} bytes")
    if not 1 <= len(name) <= 200 or "/" in name:
        raise ValueError("attachment name: 1-200 characters, no '/'")
    async with transaction(pool) as conn:
        wo = await locked(conn, wo_id, actor)
        at = clock.now()
        fields = {
            "work_order_id": wo_id,
            "name": name,
            "content_type": content_type,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "data": data,
            "at": at,
            "created_by": actor.name,
        }
        row = dict(await repo.insert(conn, "fs_attachments", fields))
        await repo.insert_event(
            conn,
            wo,
            at,
            actor.name,
            "attachment_added",
            attachment_id=row["id"],
            name=name,
            size=len(data),
        )
    row.pop("data")
    return row


async def attachment(pool: Pool, wo_id: int, att_id: int, actor: Actor) -> dict[str, Any]:
    """One attachment with its bytes."""
    async with pool.acquire() as conn:
        wo = await repo.work_order(conn, wo_id, actor.tenant_id, actor.technician_id, lock=False)
        row = await conn.fetchrow(
            "SELECT * FROM fs_attachments WHERE id = $1 AND work_order_id = $2", att_id, wo_id
        )
    if wo is None or row is None:
        raise NotFound(f"attachment {att_id} not found")
    return dict(row)


async def suggest(pool: Pool, wo_id: int, actor: Actor, limit: int = 5) -> list[Suggestion]:
    """Technicians ranked for a work order: skill, coverage, open load, distance."""
    async with pool.acquire() as conn:
        wo = await repo.work_order(conn, wo_id, actor.tenant_id, None, lock=False)
        if wo is None:
            raise NotFound(f"work order {wo_id} not found")
        site = await places.of_site(conn, wo["site_id"]) if wo["site_id"] else None
        techs = await crepo.all_rows(conn, "fs_technicians", "id")
        load = await repo.open_load(conn)
    need = Need(
        skills=frozenset(wo["required_skills"]),
        site_id=wo["site_id"],
        latitude=site.latitude if site else None,
        longitude=site.longitude if site else None,
    )
    cands = [
        Candidate(
            id=t["id"],
            skills=frozenset(t["skills"]),
            sites=frozenset(t["sites"]),
            open_orders=load.get(t["id"], 0),
            latitude=t["latitude"],
            longitude=t["longitude"],
            active=t["active"],
        )
        for t in techs
    ]
    return rank(cands, need, limit)
