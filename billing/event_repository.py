"""Invoice events SQL (the billing_events outbox). Never commits."""

from __future__ import annotations

from typing import Any

import asyncpg

from servitize.db import Connection


async def record(conn: Connection, rows: list[tuple[int, str, str, dict[str, Any]]]) -> None:
    """Record (invoice id, tenant, kind, payload) events in the caller's transaction."""
    await conn.executemany(
        """INSERT INTO billing_events (invoice_id, tenant_id, kind, payload)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
        rows,
    )


async def events_after(
    conn: Connection, after: int, tenant_id: str | None, limit: int
) -> list[asyncpg.Record]:
    """Events with ids above `after`, oldest first (of one tenant, or all)."""
    return await conn.fetch(
        """SELECT * FROM billing_events WHERE id > $1 AND ($2::text IS NULL OR tenant_id = $2)
           ORDER BY id LIMIT $3""",
        after,
        tenant_id,
        limit,
    )


async def due(conn: Connection, limit: int) -> list[asyncpg.Record]:
    """Pending events whose next attempt is due, locked (several deliverers may run)."""
    return await conn.fetch(
        """SELECT * FROM billing_events WHERE status = 'pending' AND next_attempt_at <= now()
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )


async def attempted(
    conn: Connection, event_id: int, status: str, attempts: int, error: str | None, delay_s: float
) -> None:
    """Record a delivery attempt's outcome."""
    await conn.execute(
        """UPDATE billing_events SET status = $2, attempts = $3, last_error = $4,
                  sent_at = CASE WHEN $2 = 'sent' THEN now() END,
                  next_attempt_at = now() + make_interval(secs => $5)
           WHERE id = $1""",
        event_id,
        status,
        attempts,
        error,
        delay_s,
    )
