"""Alert API: list, detail, acknowledge, resolve, comment, live stream (SSE), maintenance
windows and webhook settings. Mounted under /api/v1 by the API app."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import AwareDatetime
from sse_starlette.sse import EventSourceResponse

from analytics.alerts import service
from analytics.alerts.models import AlertFilter
from analytics.alerts.schemas import (
    AlertDetail,
    AlertOut,
    AlertPage,
    CommentIn,
    CommentOut,
    MaintenanceIn,
    MaintenanceOut,
    ResolveIn,
    WebhookIn,
    WebhookOut,
)
from api import sse
from api.deps import PoolDep, get_app_settings
from api.problems import NOT_FOUND, Problem
from api.security import Principal, Role, require_role
from servitize.settings import Settings

router = APIRouter(tags=["alerts"])

Reader = Annotated[Principal, Depends(require_role(Role.OPERATOR, Role.VIEWER, Role.FINANCE))]
Operator = Annotated[Principal, Depends(require_role(Role.OPERATOR))]
AlertId = Annotated[int, Path(ge=1)]


@router.get("/alerts", response_model=AlertPage, summary="List alerts, newest first")
async def list_alerts(
    pool: PoolDep,
    who: Reader,
    state: Annotated[
        str | None, Query(description="open, active, cleared, unacknowledged, closed")
    ] = None,
    severity: Annotated[str | None, Query(description="info, warning, major, critical")] = None,
    tenant_id: str | None = None,
    site_id: str | None = None,
    device_id: str | None = None,
    since: Annotated[
        AwareDatetime | None, Query(description="evidence up to at least this time")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="evidence starting before this time")
    ] = None,
    cursor: Annotated[
        int | None, Query(ge=1, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Alerts visible to the caller (a tenant key sees only its tenant)."""
    try:
        f = AlertFilter(
            tenant_id=who.scope(tenant_id),
            state=state,
            severity=severity,
            site_id=site_id,
            device_id=device_id,
            since=since,
            until=until,
            before_id=cursor,
            limit=limit,
        )
    except ValueError as exc:
        raise Problem(422, "Unprocessable Content", str(exc)) from exc
    items, next_cursor = await service.list_alerts(pool, f)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/alerts/stream", summary="Live alert changes (Server-Sent Events)")
async def stream(
    request: Request,
    pool: PoolDep,
    who: Reader,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[
        int | None, Query(ge=0, le=sse.MAX_EVENT_ID, description="resume after this event id")
    ] = None,
) -> EventSourceResponse:
    """Every alert change as an SSE event (id = event id; resume with Last-Event-ID)."""

    async def fetch(last: int) -> list[dict[str, Any]]:
        return await service.events_after(pool, last, who.tenant_id)

    start = sse.last_event_id(last_event_id, after)
    return EventSourceResponse(sse.feed(request, pool, "servitize_alerts", fetch, start, _action))


def _action(event: dict[str, Any]) -> str:
    return str(event["action"])


@router.get(
    "/alerts/{alert_id}", response_model=AlertDetail, summary="One alert with its audit trail"
)
async def get_alert(alert_id: AlertId, pool: PoolDep, who: Reader) -> dict[str, Any]:
    """The alert, its events (who did what when) and comments."""
    return await service.detail(pool, alert_id, who.tenant_id)


@router.post("/alerts/{alert_id}/ack", response_model=AlertOut, summary="Acknowledge an alert")
async def acknowledge(alert_id: AlertId, pool: PoolDep, who: Operator) -> dict[str, Any]:
    """Acknowledge; a cleared alert is closed by it."""
    return await service.acknowledge(pool, alert_id, f"key:{who.key_id}", who.tenant_id)


@router.post(
    "/alerts/{alert_id}/resolve", response_model=AlertOut, summary="Close an alert by hand"
)
async def resolve(
    alert_id: AlertId, body: ResolveIn, pool: PoolDep, who: Operator
) -> dict[str, Any]:
    """Close an open alert whatever its state."""
    actor = f"key:{who.key_id}"
    return await service.resolve(pool, alert_id, actor, who.tenant_id, body.note)


@router.post(
    "/alerts/{alert_id}/comments", response_model=CommentOut, status_code=201, summary="Comment"
)
async def comment(
    alert_id: AlertId, body: CommentIn, pool: PoolDep, who: Operator
) -> dict[str, Any]:
    """Add a comment to an alert."""
    return await service.comment(pool, alert_id, f"key:{who.key_id}", body.body, who.tenant_id)


@router.get(
    "/maintenance-windows", response_model=list[MaintenanceOut], summary="Maintenance windows"
)
async def list_windows(pool: PoolDep, who: Reader) -> list[dict[str, Any]]:
    """Windows visible to the caller."""
    return await service.list_maintenance(pool, who.tenant_id)


@router.post(
    "/maintenance-windows",
    response_model=MaintenanceOut,
    status_code=201,
    summary="Add a window",
    responses=NOT_FOUND,  # a site or device in the body that is not the caller's
)
async def add_window(body: MaintenanceIn, pool: PoolDep, who: Operator) -> dict[str, Any]:
    """Alerts whose evidence starts inside the window are recorded as suppressed."""
    tenant = who.tenant_id or body.tenant_id
    if tenant is None or not who.can_see(body.tenant_id or tenant):
        raise Problem(422, "Unprocessable Content", "tenant_id is required (and must be yours)")
    return await service.add_maintenance(
        pool, tenant, body.starts_at, body.ends_at, f"key:{who.key_id}",
        site_id=body.site_id, device_id=body.device_id, reason=body.reason,
    )  # fmt: skip


@router.delete("/maintenance-windows/{window_id}", status_code=204, summary="Delete a window")
async def delete_window(
    window_id: Annotated[int, Path(ge=1)], pool: PoolDep, who: Operator
) -> None:
    """Remove a maintenance window."""
    await service.delete_maintenance(pool, window_id, who.tenant_id)


@router.get("/tenants/{tenant_id}/webhook", response_model=WebhookOut, summary="Webhook settings")
async def get_webhook(tenant_id: str, pool: PoolDep, who: Operator) -> dict[str, Any]:
    """A tenant's webhook (secret masked)."""
    _own(who, tenant_id)
    return await service.get_webhook(pool, tenant_id)


@router.put("/tenants/{tenant_id}/webhook", response_model=WebhookOut, summary="Set the webhook")
async def put_webhook(
    tenant_id: str,
    body: WebhookIn,
    pool: PoolDep,
    who: Operator,
    cfg: Annotated[Settings, Depends(get_app_settings)],
) -> dict[str, Any]:
    """Create or replace a tenant's webhook (open, escalation and clear notifications). The
    URL must reach a public address unless SERVITIZE_WEBHOOK_ALLOW lists it."""
    _own(who, tenant_id)
    settings = body.model_dump()
    settings["url"] = str(body.url)
    policy = service.webhook_policy(cfg.webhook_allow)
    return await service.set_webhook(pool, tenant_id, settings, policy)


def _own(who: Principal, tenant_id: str) -> None:
    if not who.can_see(tenant_id):
        raise Problem(404, "Not Found", f"tenant {tenant_id} not found")
