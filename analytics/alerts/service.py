"""Alert service: operators' actions (acknowledge, resolve, comment), queries, maintenance
windows and webhook settings. Each public function is one transaction.

`tenant_id` arguments are the caller's scope: None is the service provider (every tenant);
another tenant's object is reported as not found.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analytics.alerts import repository as repo
from analytics.alerts.lifecycle import public_alert
from analytics.alerts.models import AlertFilter, Conflict, DeviceRef, NotFound, alert_state
from analytics.alerts.webhook_guard import WebhookPolicy, check_url
from analytics.detectors.rules import severity_rank
from analytics.monitor.pipeline import Finding
from registry import service as registry
from servitize.db import Connection, Pool, transaction
from servitize.errors import Invalid
from servitize.settings import get_settings

__all__ = ["apply_findings", "public_alert"]


async def apply_findings(
    pool: Pool, items: list[tuple[DeviceRef, Finding]], actor: str
) -> list[str]:
    """Fold a batch of findings into the alert store in one transaction."""
    from analytics.alerts.lifecycle import apply_finding

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
        row = await repo.insert_maintenance(
            conn,
            {
                "tenant_id": tenant_id,
                "site_id": site_id,
                "device_id": device_id,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "reason": reason,
                "created_by": actor,
            },
        )
        return dict(row) if row else {}


async def _check_scope(
    conn: Any, tenant_id: str, site_id: str | None, device_id: str | None
) -> None:
    if site_id and not await registry.site_of_tenant(conn, tenant_id, site_id):
        raise NotFound(f"site {site_id} not found")
    if device_id and not await registry.device_of_tenant(conn, tenant_id, device_id):
        raise NotFound(f"device {device_id} not found")


async def list_maintenance(pool: Pool, tenant_id: str | None) -> list[dict[str, Any]]:
    """Maintenance windows visible to the caller, newest first."""
    async with pool.acquire() as conn:
        rows = await repo.maintenance_list(conn, tenant_id)
    return [dict(r) for r in rows]


async def delete_maintenance(pool: Pool, window_id: int, tenant_id: str | None) -> None:
    """Delete a maintenance window."""
    async with transaction(pool) as conn:
        done = await repo.delete_maintenance(conn, window_id, tenant_id)
    if not done:
        raise NotFound(f"maintenance window {window_id} not found")


async def set_webhook(
    pool: Pool, tenant_id: str, settings: dict[str, Any], policy: WebhookPolicy | None = None
) -> dict[str, Any]:
    """Create or replace a tenant's webhook (url, secret, format json|dingtalk, min_severity).
    The URL must reach a public address unless `policy` (default: SERVITIZE_WEBHOOK_ALLOW)
    allows it."""
    await check_url(str(settings.get("url", "")), policy or webhook_policy())
    if len(str(settings.get("secret", ""))) < 16:
        raise Invalid("webhook secret must have at least 16 characters")
    if settings.get("format", "json") not in ("json", "dingtalk"):
        raise Invalid("webhook format must be json or dingtalk")
    severity_rank(settings.get("min_severity", "info"))
    async with transaction(pool) as conn:
        if not await registry.tenant_exists(conn, tenant_id):
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


# Reads for the detector and billing, inside the caller's transaction (conn).


async def device_refs(conn: Connection, ids: list[str] | None = None) -> dict[str, DeviceRef]:
    """Tenant, site and type of devices (every registered one when ids is None)."""
    rows = await registry.device_placements(conn, ids)
    return {r[0]: DeviceRef(*r) for r in rows}


async def open_rules(conn: Connection, device_ids: list[str]) -> list[Any]:
    """(device_id, rule, active) of the open alerts of some devices."""
    return await repo.open_rules(conn, device_ids)


async def device_windows(
    conn: Connection, start: datetime, end: datetime, tenant_ids: list[str] | None
) -> list[tuple[str, datetime, datetime]]:
    """(device, start, end) of maintenance windows overlapping [start, end): a window names a
    device, a site (all its devices) or the whole tenant."""
    windows = await repo.overlapping_windows(conn, start, end, tenant_ids)
    if not windows:
        return []
    devices = await registry.tenant_devices(conn, sorted({w["tenant_id"] for w in windows}))
    return [
        (device, w["starts_at"], w["ends_at"])
        for w in windows
        for device, tenant, site in devices
        if tenant == w["tenant_id"]
        and (w["site_id"] is None or site == w["site_id"])
        and (w["device_id"] is None or device == w["device_id"])
    ]


def webhook_policy(allow: str | None = None) -> WebhookPolicy:
    """The webhook address policy from SERVITIZE_WEBHOOK_ALLOW (or the text given)."""
    return WebhookPolicy.parse(get_settings().webhook_allow if allow is None else allow)


async def delivery_webhook(pool: Pool, tenant_id: str) -> dict[str, Any] | None:
    """A tenant's webhook with its secret, for signing deliveries of other domains' events
    (billing's invoice events); None when there is none."""
    async with pool.acquire() as conn:
        row = await repo.webhook(conn, tenant_id)
    return None if row is None else dict(row)


async def newest_event_id(pool: Pool) -> int:
    """Where a live view that has just read the current list starts its stream."""
    async with pool.acquire() as conn:
        return await repo.newest_event_id(conn)
