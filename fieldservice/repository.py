"""Work-order SQL (never commits). Column names come from code, never from requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from fieldservice.states import OPEN
from servitize.db import Connection

Row = asyncpg.Record
OPEN_STATES = sorted(OPEN)


async def insert(conn: Connection, table: str, fields: dict[str, Any]) -> Row:
    """INSERT one row and return it."""
    cols = list(fields)
    marks = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) RETURNING *"
    row = await conn.fetchrow(sql, *fields.values())
    assert row is not None
    return row


async def update(
    conn: Connection, table: str, key: tuple[str, Any], fields: dict[str, Any]
) -> None:
    """UPDATE one row by its key."""
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(fields, start=2))
    await conn.execute(f"UPDATE {table} SET {sets} WHERE {key[0]} = $1", key[1], *fields.values())


async def next_number(conn: Connection, year: int) -> str:
    """The next work-order number of a year, WO-2026-000001 (gapless: the row stays locked)."""
    n = await conn.fetchval(
        "INSERT INTO fs_number_counters (year, last_value) VALUES ($1, 1) "
        "ON CONFLICT (year) DO UPDATE SET last_value = fs_number_counters.last_value + 1 "
        "RETURNING last_value",
        year,
    )
    return f"WO-{year}-{n:06d}"


_SCOPE = "($2::text IS NULL OR w.tenant_id = $2) AND ($3::text IS NULL OR w.technician_id = $3)"


async def work_order(
    conn: Connection, wo_id: int, tenant_id: str | None, technician_id: str | None, *, lock: bool
) -> Row | None:
    """A work order visible to the scope (FOR UPDATE when lock)."""
    tail = " FOR UPDATE" if lock else ""
    return await conn.fetchrow(
        f"SELECT w.* FROM fs_work_orders w WHERE w.id = $1 AND {_SCOPE}{tail}",
        wo_id,
        tenant_id,
        technician_id,
    )


async def list_work_orders(
    conn: Connection,
    tenant_id: str | None,
    technician_id: str | None,
    state: str | None,
    before_id: int | None,
    limit: int,
) -> list[Row]:
    """A page of work orders, newest first."""
    return await conn.fetch(
        "SELECT w.* FROM fs_work_orders w WHERE ($1::text IS NULL OR w.tenant_id = $1) "
        "AND ($2::text IS NULL OR w.technician_id = $2) AND ($3::text IS NULL OR w.state = $3) "
        "AND ($4::bigint IS NULL OR w.id < $4) ORDER BY w.id DESC LIMIT $5",
        tenant_id,
        technician_id,
        state,
        before_id,
        limit,
    )


async def open_for_device(conn: Connection, device_id: str) -> Row | None:
    """The oldest open work order of a device, locked."""
    return await conn.fetchrow(
        "SELECT * FROM fs_work_orders WHERE device_id = $1 AND state = ANY($2::text[]) "
        "ORDER BY id LIMIT 1 FOR UPDATE",
        device_id,
        OPEN_STATES,
    )


async def lock_device(conn: Connection, device_id: str) -> None:
    """Serialize work-order creation per device until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('fs:' || $1))", device_id)


async def insert_event(
    conn: Connection, wo: Row, at: datetime, actor: str, action: str, **extra: Any
) -> int:
    """Append an audit/stream event (from/to state and detail in extra)."""
    eid: int = await conn.fetchval(
        "INSERT INTO fs_events (work_order_id, tenant_id, at, actor, action, from_state, "
        "to_state, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        wo["id"],
        wo["tenant_id"],
        at,
        actor,
        action,
        extra.pop("from_state", None),
        extra.pop("to_state", None),
        extra,
    )
    return eid


async def events(conn: Connection, wo_id: int) -> list[Row]:
    """A work order's audit trail, oldest first."""
    return await conn.fetch("SELECT * FROM fs_events WHERE work_order_id = $1 ORDER BY id", wo_id)


async def events_after(
    conn: Connection, last_id: int, tenant_id: str | None, technician_id: str | None, limit: int
) -> list[Row]:
    """The change feed after an event id, within the caller's scope."""
    return await conn.fetch(
        "SELECT e.* FROM fs_events e JOIN fs_work_orders w ON w.id = e.work_order_id "
        "WHERE e.id > $1 AND ($2::text IS NULL OR e.tenant_id = $2) "
        "AND ($3::text IS NULL OR w.technician_id = $3) ORDER BY e.id LIMIT $4",
        last_id,
        tenant_id,
        technician_id,
        limit,
    )


async def attach_alert(conn: Connection, wo_id: int, alert_id: int) -> bool:
    """Link an alert to a work order; False when it already is linked."""
    done = await conn.fetchval(
        "INSERT INTO fs_work_order_alerts (alert_id, work_order_id) VALUES ($1, $2) "
        "ON CONFLICT (alert_id) DO NOTHING RETURNING alert_id",
        alert_id,
        wo_id,
    )
    return done is not None


async def alert_ids(conn: Connection, wo_id: int) -> list[int]:
    """Alerts linked to a work order."""
    rows = await conn.fetch(
        "SELECT alert_id FROM fs_work_order_alerts WHERE work_order_id = $1 ORDER BY alert_id",
        wo_id,
    )
    return [r["alert_id"] for r in rows]


async def overlapping(
    conn: Connection, technician_id: str, start: datetime, end: datetime
) -> Row | None:
    """A time entry of the technician overlapping [start, end)."""
    return await conn.fetchrow(
        "SELECT * FROM fs_time_entries WHERE technician_id = $1 AND started_at < $3 "
        "AND ended_at > $2 LIMIT 1",
        technician_id,
        start,
        end,
    )


async def children(conn: Connection, table: str, wo_id: int) -> list[Row]:
    """Time entries, part uses, notes or attachments (no data) of a work order."""
    cols = "id, work_order_id, name, content_type, size, sha256, at, created_by"
    what = cols if table == "fs_attachments" else "*"
    return await conn.fetch(
        f"SELECT {what} FROM {table} WHERE work_order_id = $1 ORDER BY id", wo_id
    )


async def open_load(conn: Connection) -> dict[str, int]:
    """Open work orders per technician."""
    rows = await conn.fetch(
        "SELECT technician_id, count(*) AS n FROM fs_work_orders "
        "WHERE technician_id IS NOT NULL AND state = ANY($1::text[]) GROUP BY technician_id",
        OPEN_STATES,
    )
    return {r["technician_id"]: r["n"] for r in rows}
