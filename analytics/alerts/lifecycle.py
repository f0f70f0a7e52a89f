"""Detector side of the alert lifecycle: findings in, alerts opened/updated/cleared.

Runs inside the caller's transaction. The partial unique index makes the insert a no-op when
another process opened the key first; the row is then locked and updated instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from analytics.alerts import repository as repo
from analytics.alerts.models import DeviceRef, alert_state, device_time
from analytics.detectors.rules import severity_rank
from analytics.monitor.pipeline import Finding
from fieldservice import dispatch
from servitize.db import Connection

log = logging.getLogger(__name__)
# Told when an alert opens, inside the alert's transaction but in a savepoint: a failing
# hook is logged and never loses the alert. Field service turns alerts into work orders.
OpenHook = Callable[[Connection, dict[str, Any]], Awaitable[object]]
OPEN_HOOKS: tuple[OpenHook, ...] = (dispatch.on_alert_opened,)


async def apply_finding(conn: Connection, dev: DeviceRef, f: Finding, actor: str) -> list[str]:
    """Fold one finding into the alert store; returns the audit actions taken."""
    actions: list[str] = []
    sig = f.signal
    if sig.fired:
        row = await repo.lock_open(conn, dev.id, f.rule)
        if row is None:
            row = await _open(conn, dev, f, actor, actions)
        if row is not None:
            await _update(conn, row, f, actor, actions)
    if sig.cleared_at is not None and not sig.active:
        row = await repo.lock_open(conn, dev.id, f.rule)
        if row is not None and row["active"]:
            await _clear(conn, row, device_time(sig.cleared_at), actor, actions)
    return actions


async def _open(
    conn: Connection, dev: DeviceRef, f: Finding, actor: str, actions: list[str]
) -> asyncpg.Record | None:
    sig = f.signal
    assert sig.first_ts is not None and sig.last_ts is not None
    first = device_time(sig.first_ts)
    suppressed = await repo.in_maintenance(conn, dev, first)
    row = {
        "tenant_id": dev.tenant_id,
        "site_id": dev.site_id,
        "device_id": dev.id,
        "rule": f.rule,
        "detector": f.detector,
        "metric": f.metric,
        "severity": f.severity,
        "suppressed": suppressed,
        "count": max(sig.episodes, 1),
        "first_ts": first,
        "last_ts": device_time(sig.last_ts),
        "value": f.value,
        "threshold": f.threshold,
        "score": f.score,
        "strength": _strength(f),
        "sentence": f.sentence,
        "evidence": f.evidence,
    }
    alert_id = await repo.insert_alert(conn, row)
    if alert_id is None:  # another process opened this key first: update theirs
        return await repo.lock_open(conn, dev.id, f.rule)
    detail = {"severity": f.severity, "suppressed": suppressed, "sentence": f.sentence}
    await repo.insert_event(conn, alert_id, dev.tenant_id, actor, "opened", detail)
    actions.append("opened")
    await _on_open(conn, {**row, "id": alert_id})
    if not suppressed:
        await _notify(conn, alert_id, "open", {**row, "id": alert_id, "state": "active"})
    return None


async def _on_open(conn: Connection, alert: dict[str, Any]) -> None:
    for hook in OPEN_HOOKS:
        try:
            async with conn.transaction():
                await hook(conn, alert)
        except Exception:
            log.exception("alert-open hook %s failed for alert %s", hook.__qualname__, alert["id"])


async def _update(
    conn: Connection, row: asyncpg.Record, f: Finding, actor: str, actions: list[str]
) -> None:
    sig = f.signal
    assert sig.first_ts is not None and sig.last_ts is not None
    fields: dict[str, Any] = {
        "count": row["count"] + sig.episodes,
        "last_ts": max(row["last_ts"], device_time(sig.last_ts)),
        "first_ts": min(row["first_ts"], device_time(sig.first_ts)),
        "active": True,
        "cleared_ts": None,
    }
    if (row["strength"] or float("-inf")) < _strength(f) or f.severity != row["severity"]:
        fields.update(value=f.value, threshold=f.threshold, score=f.score, strength=_strength(f))
        fields.update(sentence=f.sentence or row["sentence"], evidence=f.evidence)
    escalated = severity_rank(f.severity) > severity_rank(row["severity"])
    if escalated:
        fields["severity"] = f.severity
    await repo.update_alert(conn, row["id"], fields)
    tenant = row["tenant_id"]
    if not row["active"]:
        detail = {"count": fields["count"], "at": fields["last_ts"].isoformat()}
        await repo.insert_event(conn, row["id"], tenant, actor, "reactivated", detail)
        actions.append("reactivated")
    if escalated:
        detail = {"from": row["severity"], "to": f.severity, "sentence": f.sentence}
        await repo.insert_event(conn, row["id"], tenant, actor, "escalated", detail)
        actions.append("escalated")
        if not row["suppressed"]:
            payload = {**dict(row), **fields, "state": "active"}
            await _notify(conn, row["id"], "escalate", payload)


async def _clear(
    conn: Connection, row: asyncpg.Record, at: Any, actor: str, actions: list[str]
) -> None:
    fields: dict[str, Any] = {"active": False, "cleared_ts": at}
    closing = row["acknowledged"]
    if closing:
        fields.update(closed_at=at, close_reason="cleared_and_acknowledged")
    await repo.update_alert(
        conn, row["id"], {**fields, "closed_at": None} if not closing else fields
    )
    tenant = row["tenant_id"]
    await repo.insert_event(conn, row["id"], tenant, actor, "cleared", {"at": at.isoformat()})
    actions.append("cleared")
    if closing:
        detail = {"reason": "cleared_and_acknowledged"}
        await repo.insert_event(conn, row["id"], tenant, actor, "closed", detail)
        actions.append("closed")
    if not row["suppressed"]:
        state = alert_state(False, row["acknowledged"], closing)
        await _notify(conn, row["id"], "clear", {**dict(row), **fields, "state": state})


def _strength(f: Finding) -> float:
    ev = f.evidence
    for key in ("z", "angle_deg"):
        if ev.get(key) is not None:
            return abs(float(ev[key]))
    return abs(float(f.score if f.score is not None else (f.value or 0.0)))


async def _notify(conn: Connection, alert_id: int, kind: str, alert: dict[str, Any]) -> None:
    hook = await repo.webhook(conn, alert["tenant_id"])
    if hook is None or not hook["enabled"]:
        return
    if severity_rank(alert["severity"]) < severity_rank(hook["min_severity"]):
        return
    body = {"event": kind, "alert": public_alert(alert)}
    await repo.queue_notification(conn, alert_id, alert["tenant_id"], kind, body)


PUBLIC_FIELDS = (
    *("id", "tenant_id", "site_id", "device_id", "rule", "detector", "metric", "severity"),
    *("state", "count", "first_ts", "last_ts", "cleared_ts", "value", "threshold", "score"),
    "sentence",
)


def public_alert(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert fields a webhook or an API client sees (timestamps as RFC 3339)."""
    out: dict[str, Any] = {k: alert.get(k) for k in PUBLIC_FIELDS}
    for k in ("first_ts", "last_ts", "cleared_ts"):
        value = out[k]
        if value is not None:
            out[k] = value.isoformat()
    return out
