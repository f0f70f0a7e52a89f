"""Alert service: operators' actions (acknowledge, resolve, comment), queries, maintenance
windows and webhook settings. Each public function is one transaction.

`tenant_id` arguments are the caller's scope: None is the service provider (every tenant);
another tenant's object is reported as not found.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analytics import repository as repo
from analytics.detectors.rules import severity_rank
from analytics.lifecycle import public_alert
from analytics.models import AlertFilter, Conflict, DeviceRef, NotFound, alert_state
from analytics.pipeline import Finding
from servitize.db import Pool, transaction
from servitize.errors import Invalid

__all__ = ["apply_findings", "public_alert"]


async def apply_findings(
    pool: Pool, items: list[tuple[DeviceRef, Finding]], actor: str
) -> list[str]:
    """Fold a batch of findings into the alert store in one transaction."""
    from analytics.lifecycle import apply_finding

    done: list[str] = []
    async with transaction(pool) as conn:
        for dev, finding in items:
            done += await apply_finding(conn, dev, finding, actor)
    return done


def view(row: Any) -> dict[str, Any]:
    """An alert row as the API shows it, with its combined state."""
    d = dict(row)
    d["state"] = alert_state(d["active"], d["acknowledged"], d["closed_at"] is not None)
    return d


async def acknowledge(
    pool: Pool, alert_id: int, actor: str, tenant_id: str | None
) -> dict[str, Any]:
    """Acknowledge an open alert; a cleared one is then closed."""
    async with transaction(pool) as conn:
        row = await _locked(conn, alert_id, tenant_id)
        if row["acknowledged"]:
            raise Conflict(f"alert {alert_id} is already acknowledged")
        fields: dict[str, Any] = {"acknowledged": True, "acknowledged_by": actor}
        fields["acknowledged_at"] = await conn.fetchval("SELECT now()")
        closing = not row["active"]
        if closing:
            fields.update(
                closed_at=fields["acknowledged_at"], close_reason="cleared_and_acknowledged"
            )
        await repo.update_alert(conn, alert_id, fields)
        await repo.insert_event(conn, alert_id, row["tenant_id"], actor, "acknowledged", {})
        if closing:
            detail = {"reason": "cleared_and_acknowledged"}
            await repo.insert_event(conn, alert_id, row["tenant_id"], actor, "closed", detail)
        return view(await repo.get_alert(conn, alert_id, None))


async def resolve(
    pool: Pool, alert_id: int, actor: str, tenant_id: str | None, note: str = ""
) -> dict[str, Any]:
    """Close an open alert by hand (whatever its state)."""
    async with transaction(pool) as conn:
        row = await _locked(conn, alert_id, tenant_id)
        now = await conn.fetchval("SELECT now()")
        fields = {"closed_at": now, "close_reason": "resolved", "active": False}
        await repo.update_alert(conn, alert_id, fields)
        detail = {"note": note} if note else {}
        await repo.insert_event(conn, alert_id, row["tenant_id"], actor, "resolved", detail)
        return view(await repo.get_alert(conn, alert_id, None))


async def _locked(conn: Any, alert_id: int, tenant_id: str | None) -> Any:
    row = await repo.lock_alert(conn, alert_id, tenant_id)
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    if row["closed_at"] is not None:
        raise Conflict(f"alert {alert_id} is closed")
    return row


async def comment(
    pool: Pool, alert_id: int, author: str, body: str, tenant_id: str | None
) -> dict[str, Any]:
    """Add a comment to an alert (open or closed)."""
    body = body.strip()
    if not 1 <= len(body) <= 4000:
        raise Invalid("a comment needs 1-4000 characters")
    async with transaction(pool) as conn:
        row = await repo.get_alert(conn, alert_id, tenant_id)
        if row is None:
            raise NotFound(f"alert {alert_id} not found")
        cid = await repo.insert_comment(conn, alert_id, author, body)
        await repo.insert_event(
            conn, alert_id, row["tenant_id"], author, "commented", {"comment_id": cid}
        )
        return {"id": cid, "alert_id": alert_id, "author": author, "body": body}


async def list_alerts(pool: Pool, f: AlertFilter) -> tuple[list[dict[str, Any]], int | None]:
    """A page of alerts, newest first, and the cursor of the next page (None at the end)."""
    async with pool.acquire() as conn:
        rows = await repo.list_alerts(conn, f)
    items = [view(r) for r in rows]
    cursor = items[-1]["id"] if len(items) == f.limit else None
    return items, cursor


async def detail(pool: Pool, alert_id: int, tenant_id: str | None) -> dict[str, Any]:
    """One alert with its audit trail and comments."""
    async with pool.acquire() as conn:
        row = await repo.get_alert(conn, alert_id, tenant_id)
        if row is None:
            raise NotFound(f"alert {alert_id} not found")
        out = view(row)
        out["events"] = [dict(r) for r in await repo.alert_events(conn, alert_id)]
        out["comments"] = [dict(r) for r in await repo.comments(conn, alert_id)]
    return out


async def events_after(
    pool: Pool, last_id: int, tenant_id: str | None, limit: int = 500
) -> list[dict[str, Any]]:
    """The change feed after an event id, for Server-Sent Events."""
    async with pool.acquire() as conn:
        return [dict(r) for r in await repo.events_after(conn, last_id, tenant_id, limit)]


async def add_maintenance(
    pool: Pool,
    tenant_id: str,
    starts_at: datetime,
    ends_at: datetime,
    actor: str,
    *,
    site_id: str | None = None,
    device_id: str | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """Create a maintenance window for a tenant, one of its sites or one of its devices."""
    if ends_at <= starts_at:
        raise Invalid("a maintenance window must end after it starts")
    async with transaction(pool) as conn:
        await _check_scope(conn, tenant_id, site_id, device_id)
        row = await conn.fetchrow(
            "INSERT INTO maintenance_windows (tenant_id, site_id, device_id, starts_at, ends_at, "
            "reason, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
            tenant_id,
            site_id,
            device_id,
            starts_at,
            ends_at,
            reason,
            actor,
        )
        return dict(row) if row else {}


async def _check_scope(
    conn: Any, tenant_id: str, site_id: str | None, device_id: str | None
) -> None:
    if site_id and not await conn.fetchval(
        "SELECT 1 FROM sites WHERE id = $1 AND tenant_id = $2", site_id, tenant_id
    ):
        raise NotFound(f"site {site_id} not found")
    if device_id and not await conn.fetchval(
        "SELECT 1 FROM devices WHERE id = $1 AND tenant_id = $2", device_id, tenant_id
    ):
        raise NotFound(f"device {device_id} not found")


async def list_maintenance(pool: Pool, tenant_id: str | None) -> list[dict[str, Any]]:
    """Maintenance windows visible to the caller, newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM maintenance_windows WHERE $1::text IS NULL OR tenant_id = $1 "
            "ORDER BY starts_at DESC",
            tenant_id,
        )
    return [dict(r) for r in rows]


async def delete_maintenance(pool: Pool, window_id: int, tenant_id: str | None) -> None:
    """Delete a maintenance window."""
    async with transaction(pool) as conn:
        done = await conn.fetchval(
            "DELETE FROM maintenance_windows WHERE id = $1 "
            "AND ($2::text IS NULL OR tenant_id = $2) RETURNING id",
            window_id,
            tenant_id,
        )
    if done is None:
        raise NotFound(f"maintenance window {window_id} not found")


async def set_webhook(pool: Pool, tenant_id: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Create or replace a tenant's webhook (url, secret, format json|dingtalk, min_severity)."""
    if not str(settings.get("url", "")).startswith(("http://", "https://")):
        raise Invalid("webhook url must be http(s)://")
    if len(str(settings.get("secret", ""))) < 16:
        raise Invalid("webhook secret must have at least 16 characters")
    if settings.get("format", "json") not in ("json", "dingtalk"):
        raise Invalid("webhook format must be json or dingtalk")
    severity_rank(settings.get("min_severity", "info"))
    async with transaction(pool) as conn:
        if not await conn.fetchval("SELECT 1 FROM tenants WHERE id = $1", tenant_id):
            raise NotFound(f"tenant {tenant_id} not found")
        await repo.put_webhook(conn, tenant_id, settings)
    return await get_webhook(pool, tenant_id)


async def get_webhook(pool: Pool, tenant_id: str) -> dict[str, Any]:
    """A tenant's webhook settings, the secret masked."""
    async with pool.acquire() as conn:
        row = await repo.webhook(conn, tenant_id)
    if row is None:
        raise NotFound(f"no webhook for tenant {tenant_id}")
    out = dict(row)
    out["secret"] = out["secret"][:4] + "…"
    return out
