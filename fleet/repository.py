"""SQL of commands and the fleet audit trail (never commits: the service owns transactions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fleet.models import NewCommand
from servitize.db import Connection

_OPEN = "('QUEUED', 'SENT', 'DELIVERED')"


async def insert_command(conn: Connection, cmd: NewCommand, tenant_id: str, actor: str) -> Any:
    """Store a new QUEUED command."""
    return await conn.fetchrow(
        """INSERT INTO fleet_commands (id, tenant_id, device_id, name, params, created_by,
                                       expires_at, timeout_s, max_attempts)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *""",
        cmd.id, tenant_id, cmd.device_id, cmd.name, cmd.params, actor,
        cmd.expires_at, cmd.timeout_s, cmd.max_attempts,
    )  # fmt: skip


async def get_command(conn: Connection, command_id: str, *, lock: bool = False) -> Any:
    """One command row (locked for update when asked)."""
    sql = "SELECT * FROM fleet_commands WHERE id = $1" + (" FOR UPDATE" if lock else "")
    return await conn.fetchrow(sql, command_id)


async def list_commands(
    conn: Connection, tenant_id: str | None, device_id: str | None, before: int | None, limit: int
) -> list[Any]:
    """Commands newest first, optionally of one tenant / device, before a seq cursor."""
    return await conn.fetch(
        """SELECT * FROM fleet_commands
           WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR device_id = $2)
             AND ($3::bigint IS NULL OR seq < $3)
           ORDER BY seq DESC LIMIT $4""",
        tenant_id, device_id, before, limit,
    )  # fmt: skip


async def set_state(conn: Connection, command_id: str, state: str, **columns: Any) -> None:
    """Move a command to a state and set the given columns with it."""
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=3))
    sql = f"UPDATE fleet_commands SET state = $2{', ' + sets if sets else ''} WHERE id = $1"
    await conn.execute(sql, command_id, state, *columns.values())


async def insert_event(
    conn: Connection, subject: str, row: Any, old: str | None, new: str, actor: str, **detail: Any
) -> None:
    """Audit one transition of a command / update / campaign / twin."""
    await conn.execute(
        """INSERT INTO fleet_events (tenant_id, subject, subject_id, device_id, from_state,
                                     to_state, actor, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        row.get("tenant_id"), subject, str(row["id"]), row.get("device_id"),
        old, new, actor, detail,
    )  # fmt: skip


async def events_of(conn: Connection, subject: str, subject_id: str) -> list[Any]:
    """The audit trail of one subject, oldest first."""
    return await conn.fetch(
        "SELECT * FROM fleet_events WHERE subject = $1 AND subject_id = $2 ORDER BY id",
        subject, subject_id,
    )  # fmt: skip


async def events_after(conn: Connection, last_id: int, tenant_id: str | None, limit: int) -> Any:
    """The change feed after an event id (a tenant sees its own)."""
    return await conn.fetch(
        """SELECT * FROM fleet_events WHERE id > $1 AND ($2::text IS NULL OR tenant_id = $2)
           ORDER BY id LIMIT $3""",
        last_id, tenant_id, limit,
    )  # fmt: skip


async def expired(conn: Connection, now: datetime) -> list[Any]:
    """Undelivered commands past their expiry, locked."""
    return await conn.fetch(
        """SELECT * FROM fleet_commands WHERE state IN ('QUEUED', 'SENT') AND expires_at <= $1
           ORDER BY seq FOR UPDATE SKIP LOCKED""",
        now,
    )


async def overdue(conn: Connection, now: datetime) -> list[Any]:
    """Commands out of time: retries used up without receipt, or delivered and not finished."""
    return await conn.fetch(
        """SELECT * FROM fleet_commands
           WHERE (state = 'SENT' AND attempts >= max_attempts AND next_attempt_at <= $1)
              OR (state = 'DELIVERED' AND delivered_at + make_interval(secs => timeout_s) <= $1)
           ORDER BY seq FOR UPDATE SKIP LOCKED""",
        now,
    )


async def due(conn: Connection, device_ids: list[str], now: datetime, limit: int) -> list[Any]:
    """Commands to send now to these (online) devices, in each device's order, locked."""
    return await conn.fetch(
        """SELECT * FROM fleet_commands
           WHERE device_id = ANY($1)
             -- at least a whole second left, so MQTT's expiry interval is never rounded up
             AND (expires_at IS NULL OR expires_at > $2::timestamptz + interval '1 second')
             AND (state = 'QUEUED'
                  OR (state = 'SENT' AND attempts < max_attempts AND next_attempt_at <= $2))
           ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED""",
        device_ids, now, limit,
    )  # fmt: skip


async def devices_with_work(conn: Connection, now: datetime) -> list[str]:
    """Devices with a command waiting to be sent (or sent again)."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT device_id FROM fleet_commands
            WHERE state IN {_OPEN} AND state <> 'DELIVERED'
              AND (state = 'QUEUED' OR next_attempt_at <= $1)""",
        now,
    )
    return [r["device_id"] for r in rows]
