"""SQL for alerts, their events, comments, maintenance windows, webhooks and checkpoints.

Repositories never commit: the service owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from analytics.alerts.models import AlertFilter, DeviceRef
from servitize.db import Connection

ALERT_COLUMNS = (
    "tenant_id, site_id, device_id, rule, detector, metric, severity, suppressed, count, "
    "first_ts, last_ts, value, threshold, score, strength, sentence, evidence"
)


async def insert_alert(conn: Connection, row: dict[str, Any]) -> int | None:
    """Open an alert unless one is open for the key (then None: the caller updates it)."""
    cols = [c.strip() for c in ALERT_COLUMNS.split(",")]
    params = ", ".join(f"${i + 1}" for i in range(len(cols)))
    alert_id: int | None = await conn.fetchval(
        f"INSERT INTO alerts ({ALERT_COLUMNS}) VALUES ({params}) "
        "ON CONFLICT (device_id, rule) WHERE closed_at IS NULL DO NOTHING RETURNING id",
        *(row[c] for c in cols),
    )
    return alert_id


async def lock_open(conn: Connection, device_id: str, rule: str) -> asyncpg.Record | None:
    """The open alert of a key, locked for update."""
    return await conn.fetchrow(
        "SELECT * FROM alerts WHERE device_id = $1 AND rule = $2 AND closed_at IS NULL FOR UPDATE",
        device_id,
        rule,
    )


async def lock_alert(
    conn: Connection, alert_id: int, tenant_id: str | None
) -> asyncpg.Record | None:
    """One alert locked for update, if the caller's tenant scope can see it."""
    return await conn.fetchrow(
        "SELECT * FROM alerts WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2) FOR UPDATE",
        alert_id,
        tenant_id,
    )


async def update_alert(conn: Connection, alert_id: int, fields: dict[str, Any]) -> None:
    """Set columns of one alert (and updated_at)."""
    names = list(fields)
    sets = ", ".join(f"{n} = ${i + 2}" for i, n in enumerate(names))
    await conn.execute(
        f"UPDATE alerts SET {sets}, updated_at = now() WHERE id = $1",
        alert_id,
        *(fields[n] for n in names),
    )


async def insert_event(
    conn: Connection, alert_id: int, tenant_id: str, actor: str, action: str, detail: dict[str, Any]
) -> int:
    """Append to the audit trail / change feed (the trigger notifies servitize_alerts)."""
    event_id: int = await conn.fetchval(
        "INSERT INTO alert_events (alert_id, tenant_id, actor, action, detail) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        alert_id,
        tenant_id,
        actor,
        action,
        detail,
    )
    return event_id


async def in_maintenance(conn: Connection, dev: DeviceRef, at: datetime) -> bool:
    """Whether a maintenance window of the device, its site or its tenant covers `at`."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM maintenance_windows WHERE tenant_id = $1 "
        "AND (site_id IS NULL OR site_id = $2) AND (device_id IS NULL OR device_id = $3) "
        "AND starts_at <= $4 AND ends_at > $4)",
        dev.tenant_id,
        dev.site_id,
        dev.id,
        at,
    )
    return found


async def webhook(conn: Connection, tenant_id: str) -> asyncpg.Record | None:
    """A tenant's webhook settings."""
    return await conn.fetchrow("SELECT * FROM webhooks WHERE tenant_id = $1", tenant_id)


async def put_webhook(conn: Connection, tenant_id: str, settings: dict[str, Any]) -> None:
    """Create or replace a tenant's webhook settings."""
    await conn.execute(
        "INSERT INTO webhooks (tenant_id, url, secret, format, min_severity, enabled) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id) DO UPDATE SET "
        "url = EXCLUDED.url, secret = EXCLUDED.secret, format = EXCLUDED.format, "
        "min_severity = EXCLUDED.min_severity, enabled = EXCLUDED.enabled, updated_at = now()",
        tenant_id,
        settings["url"],
        settings["secret"],
        settings.get("format", "json"),
        settings.get("min_severity", "info"),
        settings.get("enabled", True),
    )


async def queue_notification(
    conn: Connection, alert_id: int, tenant_id: str, kind: str, payload: dict[str, Any]
) -> None:
    """Put a notification in the outbox."""
    await conn.execute(
        "INSERT INTO notifications (alert_id, tenant_id, kind, payload) VALUES ($1, $2, $3, $4)",
        alert_id,
        tenant_id,
        kind,
        payload,
    )


def _where(f: AlertFilter) -> tuple[str, list[Any]]:
    conds, args = ["true"], []

    def add(sql: str, value: Any) -> None:
        args.append(value)
        conds.append(sql.replace("?", f"${len(args)}"))

    for col, value in (
        ("tenant_id", f.tenant_id),
        ("severity", f.severity),
        ("site_id", f.site_id),
        ("device_id", f.device_id),
    ):
        if value is not None:
            add(f"{col} = ?", value)
    if f.since is not None:
        add("last_ts >= ?", f.since)
    if f.until is not None:
        add("first_ts < ?", f.until)
    if f.before_id is not None:
        add("id < ?", f.before_id)
    conds.append(_STATE_SQL.get(f.state or "", "true"))
    return " AND ".join(conds), args


_STATE_SQL = {
    "open": "closed_at IS NULL",
    "active": "closed_at IS NULL AND active",
    "cleared": "closed_at IS NULL AND NOT active",
    "unacknowledged": "closed_at IS NULL AND NOT acknowledged",
    "closed": "closed_at IS NOT NULL",
}


async def list_alerts(conn: Connection, f: AlertFilter) -> list[asyncpg.Record]:
    """Alerts matching the filter, newest first, at most f.limit."""
    where, args = _where(f)
    return await conn.fetch(
        f"SELECT * FROM alerts WHERE {where} ORDER BY id DESC LIMIT {int(f.limit)}", *args
    )


async def get_alert(
    conn: Connection, alert_id: int, tenant_id: str | None
) -> asyncpg.Record | None:
    """One alert if the tenant scope can see it."""
    return await conn.fetchrow(
        "SELECT * FROM alerts WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)",
        alert_id,
        tenant_id,
    )


async def alert_events(conn: Connection, alert_id: int) -> list[asyncpg.Record]:
    """The audit trail of one alert, oldest first."""
    return await conn.fetch("SELECT * FROM alert_events WHERE alert_id = $1 ORDER BY id", alert_id)


async def comments(conn: Connection, alert_id: int) -> list[asyncpg.Record]:
    """Comments on one alert, oldest first."""
    return await conn.fetch(
        "SELECT * FROM alert_comments WHERE alert_id = $1 ORDER BY id", alert_id
    )


async def insert_comment(conn: Connection, alert_id: int, author: str, body: str) -> int:
    """Add a comment."""
    cid: int = await conn.fetchval(
        "INSERT INTO alert_comments (alert_id, author, body) VALUES ($1, $2, $3) RETURNING id",
        alert_id,
        author,
        body,
    )
    return cid


async def events_after(
    conn: Connection, last_id: int, tenant_id: str | None, limit: int = 500
) -> list[asyncpg.Record]:
    """Change-feed events after an id (for Server-Sent Events resumption), each with its
    alert's device, site, severity and metric."""
    return await conn.fetch(
        "SELECT e.*, a.device_id, a.site_id, a.severity, a.metric FROM alert_events e "
        "JOIN alerts a ON a.id = e.alert_id "
        "WHERE e.id > $1 AND ($2::text IS NULL OR e.tenant_id = $2) ORDER BY e.id LIMIT $3",
        last_id,
        tenant_id,
        limit,
    )


async def open_rules(conn: Connection, device_ids: list[str]) -> list[asyncpg.Record]:
    """(device_id, rule, active) of the open alerts of some devices."""
    return await conn.fetch(
        "SELECT device_id, rule, active FROM alerts WHERE closed_at IS NULL "
        "AND device_id = ANY($1)",
        device_ids,
    )


async def maintenance_list(conn: Connection, tenant_id: str | None) -> list[asyncpg.Record]:
    """Maintenance windows of a tenant (all when None), newest first."""
    return await conn.fetch(
        "SELECT * FROM maintenance_windows WHERE $1::text IS NULL OR tenant_id = $1 "
        "ORDER BY starts_at DESC",
        tenant_id,
    )


async def overlapping_windows(
    conn: Connection, start: datetime, end: datetime, tenant_ids: list[str] | None
) -> list[asyncpg.Record]:
    """Maintenance windows overlapping [start, end) of some tenants (all when None)."""
    return await conn.fetch(
        "SELECT tenant_id, site_id, device_id, starts_at, ends_at FROM maintenance_windows "
        "WHERE starts_at < $2 AND ends_at > $1 AND ($3::text[] IS NULL OR tenant_id = ANY($3))",
        start,
        end,
        tenant_ids,
    )


async def insert_maintenance(conn: Connection, row: dict[str, Any]) -> asyncpg.Record | None:
    """Store a maintenance window (tenant_id, site_id, device_id, starts_at, ends_at, reason,
    created_by); returns the stored row."""
    return await conn.fetchrow(
        "INSERT INTO maintenance_windows (tenant_id, site_id, device_id, starts_at, ends_at, "
        "reason, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        *(row[k] for k in MAINTENANCE_COLUMNS),
    )


MAINTENANCE_COLUMNS = (
    "tenant_id",
    "site_id",
    "device_id",
    "starts_at",
    "ends_at",
    "reason",
    "created_by",
)


async def delete_maintenance(conn: Connection, window_id: int, tenant_id: str | None) -> bool:
    """Delete a window of the tenant (any tenant's when None); False when there was none."""
    done = await conn.fetchval(
        "DELETE FROM maintenance_windows WHERE id = $1 "
        "AND ($2::text IS NULL OR tenant_id = $2) RETURNING id",
        window_id,
        tenant_id,
    )
    return done is not None


async def newest_event_id(conn: Connection) -> int:
    """The id of the newest change-feed event (0 when there is none)."""
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM alert_events"))
