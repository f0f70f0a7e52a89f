"""Command use cases: queue, cancel, dispatch, apply device replies, expire and time out.

Every state change goes through `_move`, which checks the state machine, timestamps the row
and writes the audit event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fleet import repository as repo
from fleet.models import Command, NewCommand, Reply, RetryPolicy
from fleet.states import COMMAND_TRANSITIONS, CommandState, check_command, retry_delay_s
from registry import service as registry
from servitize.db import Connection, Pool, transaction

C = CommandState
Publisher = Callable[[Command, datetime], Awaitable[None]]


class NotFound(LookupError):
    """No such object (or not visible to the caller)."""


class Conflict(RuntimeError):
    """The object is in a state that does not allow the action."""


def view(row: Any) -> dict[str, Any]:
    """A command row as the API shows it."""
    return dict(row)


async def _move(conn: Connection, row: Any, new: CommandState, actor: str, **columns: Any) -> None:
    old = CommandState(row["state"])
    check_command(old, new)
    detail = {k: v for k, v in columns.items() if k in ("attempts", "reason")}
    await repo.set_state(conn, row["id"], new.value, **columns)
    await repo.insert_event(conn, "command", row, old.value, new.value, actor, **detail)


async def queue(pool: Pool, cmd: NewCommand, tenant_id: str, actor: str) -> dict[str, Any]:
    """Store a QUEUED command for a device of the tenant."""
    async with transaction(pool) as conn:
        return await queue_in(conn, cmd, tenant_id, actor)


async def queue_in(conn: Connection, cmd: NewCommand, tenant_id: str, actor: str) -> dict[str, Any]:
    """Queue a command inside the caller's transaction (campaigns notify devices this way)."""
    row = await repo.insert_command(conn, cmd, tenant_id, actor)
    await repo.insert_event(conn, "command", row, None, C.QUEUED.value, actor)
    return view(row)


async def get(pool: Pool, command_id: str, tenant_id: str | None) -> dict[str, Any]:
    """One command with its audit trail."""
    async with pool.acquire() as conn:
        row = await repo.get_command(conn, command_id)
        if row is None or (tenant_id is not None and row["tenant_id"] != tenant_id):
            raise NotFound(f"command {command_id} not found")
        out = view(row)
        out["events"] = [dict(e) for e in await repo.events_of(conn, "command", command_id)]
    return out


async def list_commands(
    pool: Pool, tenant_id: str | None, device_id: str | None, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """Commands newest first."""
    async with pool.acquire() as conn:
        return [
            view(r) for r in await repo.list_commands(conn, tenant_id, device_id, before, limit)
        ]


async def cancel(pool: Pool, command_id: str, tenant_id: str | None, actor: str) -> dict[str, Any]:
    """Cancel a command the device has not received yet."""
    async with transaction(pool) as conn:
        row = await repo.get_command(conn, command_id, lock=True)
        if row is None or (tenant_id is not None and row["tenant_id"] != tenant_id):
            raise NotFound(f"command {command_id} not found")
        if C.CANCELED not in _allowed(row):
            raise Conflict(f"command {command_id} is {row['state']}: it can no longer be canceled")
        await _move(conn, row, C.CANCELED, actor, finished_at=datetime.now(UTC))
        row = await repo.get_command(conn, command_id)
    return view(row)


def _allowed(row: Any) -> frozenset[CommandState]:
    return COMMAND_TRANSITIONS[CommandState(row["state"])]


async def apply_reply(pool: Pool, device_id: str, reply: Reply, now: datetime) -> bool:
    """Apply a receipt or result from the device itself; False when it changes nothing.

    Duplicates (a device answering a resend) and late replies to finished commands are
    ignored, so replies are idempotent. A reply on another device's command is ignored.
    """
    async with transaction(pool) as conn:
        row = await repo.get_command(conn, reply.command_id, lock=True)
        if row is None or row["device_id"] != device_id:
            return False
        new, old = reply.state, CommandState(row["state"])
        if new not in _allowed(row) or (new is C.DELIVERED and old is not C.SENT):
            return False
        columns: dict[str, Any] = {}
        if row["delivered_at"] is None:
            columns["delivered_at"] = now
        if new.terminal:
            columns |= {"finished_at": now, "result": reply.output, "reason": reply.reason}
        await _move(conn, row, new, f"device:{device_id}", **columns)
    return True


async def sweep(pool: Pool, now: datetime) -> int:
    """Expire undelivered commands past their expiry and time out the overdue ones."""
    async with transaction(pool) as conn:
        expired = await repo.expired(conn, now)
        for row in expired:
            await _move(conn, row, C.EXPIRED, "fleet", finished_at=now, reason="expired")
        overdue = await repo.overdue(conn, now)
        for row in overdue:
            why = "no receipt" if row["state"] == C.SENT else "no result in time"
            await _move(conn, row, C.TIMED_OUT, "fleet", finished_at=now, reason=why)
    return len(expired) + len(overdue)


async def pending_devices(pool: Pool, now: datetime) -> list[str]:
    """Devices with a command to send now."""
    async with pool.acquire() as conn:
        return await repo.devices_with_work(conn, now)


async def dispatch(
    pool: Pool, device_ids: list[str], publish: Publisher, policy: RetryPolicy, now: datetime
) -> int:
    """Send due commands of these reachable devices in order; each is SENT once published.

    The rows stay locked while publishing, so two fleet processes never send one command
    twice at the same moment; a crash before commit leaves it QUEUED/SENT to be sent again
    (the device is idempotent by command id).
    """
    if not device_ids:
        return 0
    async with transaction(pool) as conn:
        rows = await repo.due(conn, device_ids, now, 500)
        for row in rows:
            cmd = Command.from_row(row)
            await publish(cmd, now)
            attempt = cmd.attempts + 1
            wait = timedelta(seconds=retry_delay_s(attempt, policy.base_s, policy.cap_s))
            await _move(
                conn, row, C.SENT, "fleet", attempts=attempt,
                sent_at=row["sent_at"] or now, next_attempt_at=now + wait,
            )  # fmt: skip
    return len(rows)


async def events_after(
    pool: Pool, last_id: int, tenant_id: str | None, limit: int = 500
) -> list[dict[str, Any]]:
    """Fleet transitions after an event id (a tenant sees its own), for SSE and polling."""
    async with pool.acquire() as conn:
        return [dict(r) for r in await repo.events_after(conn, last_id, tenant_id, limit)]


async def device_tenant(pool: Pool, device_id: str) -> str | None:
    """The tenant of a registered device (None: no such device), from the registry."""
    async with pool.acquire() as conn:
        found = await registry.device_placements(conn, [device_id])
    return found[0][1] if found else None
