"""Alerts into work orders: the hook analytics calls when an alert opens, and the by-hand path.

A new alert on a device that has an open work order is attached to it; otherwise the most
specific enabled policy for its rule, severity and device type opens one.
"""

from __future__ import annotations

from typing import Any

from fieldservice import catalog_repository as crepo
from fieldservice import clock, places
from fieldservice import repository as repo
from fieldservice.catalog import SEVERITIES
from fieldservice.models import Actor, Conflict, NotFound
from fieldservice.service import NewOrder, attach, create_in, detail
from servitize.db import Connection, Pool, transaction

ACTOR = "fieldservice:dispatch"


def _title(alert: dict[str, Any]) -> str:
    text = alert.get("sentence") or f"{alert['rule']} on {alert['device_id']}"
    return f"[{alert['severity']}] {text}"[:200]


async def on_alert_opened(conn: Connection, alert: dict[str, Any]) -> int | None:
    """Attach or open a work order for a newly opened alert; returns the work order id."""
    if alert.get("suppressed"):
        return None
    device = alert["device_id"]
    await repo.lock_device(conn, device)
    wo = await repo.open_for_device(conn, device)
    if wo is not None:
        await attach(conn, wo, alert["id"], ACTOR, clock.now())
        return int(wo["id"])
    place = await places.of_device(conn, device)
    if place is None or place.device_type is None:
        return None
    upto = list(SEVERITIES[: SEVERITIES.index(alert["severity"]) + 1])
    policy = await crepo.matching_policy(
        conn, alert["tenant_id"], alert["rule"], place.device_type, upto
    )
    if policy is None:
        return None
    new = NewOrder(
        tenant_id=alert["tenant_id"],
        title=_title(alert),
        priority=policy["priority"],
        source="policy",
        device_id=device,
        description=alert.get("sentence") or "",
        alert_id=alert["id"],
    )
    return int((await create_in(conn, new, ACTOR))["id"])


async def from_alert(pool: Pool, alert_id: int, priority: str, actor: Actor) -> dict[str, Any]:
    """A work order for an alert, by hand; an open one of the device takes the alert instead."""
    from analytics.alerts import service as alerts
    from analytics.alerts.models import NotFound as AlertNotFound

    try:
        alert = await alerts.detail(pool, alert_id, actor.tenant_id)
    except AlertNotFound as exc:
        raise NotFound(str(exc)) from exc
    async with transaction(pool) as conn:
        if await conn.fetchval("SELECT 1 FROM fs_work_order_alerts WHERE alert_id = $1", alert_id):
            raise Conflict(f"alert {alert_id} already belongs to a work order")
        await repo.lock_device(conn, alert["device_id"])
        wo = await repo.open_for_device(conn, alert["device_id"])
        if wo is not None:
            await attach(conn, wo, alert_id, actor.name, clock.now())
        else:
            new = NewOrder(
                tenant_id=alert["tenant_id"],
                title=_title(alert),
                priority=priority,
                source="alert",
                device_id=alert["device_id"],
                description=alert.get("sentence") or "",
                alert_id=alert_id,
            )
            wo = await create_in(conn, new, actor.name)
    return await detail(pool, wo["id"], actor)
