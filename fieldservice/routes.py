"""Field-service API under /api/v1/service: work orders, their work and audit trail, and the
set-up (technicians, parts, calendars, contracts, policies; see routes_setup)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api import problems
from api.problems import Problem
from fieldservice import dispatch, service, work
from fieldservice.http import ActorDep, PoolDep, WoId, call
from fieldservice.models import Actor
from fieldservice.routes_reports import router as reports_router
from fieldservice.routes_setup import router as setup_router
from fieldservice.routes_stream import router as stream_router
from fieldservice.schemas import (
    NoteIn,
    PartUseIn,
    RequestIn,
    SignOffIn,
    SuggestionOut,
    TimeIn,
    TransitionIn,
    WorkOrderDetail,
    WorkOrderIn,
    WorkOrderPage,
)
from fieldservice.states import HoldReason, Move, State

# Every route may answer with any problem of a write (404 also for references in a body).
router = APIRouter(prefix="/service", tags=["field service"], responses=problems.WRITE)
MAX_UPLOAD = work.MAX_ATTACHMENT_BYTES


def _need(actor: Actor, *roles: str) -> None:
    if actor.role != "admin" and actor.role not in roles:
        raise Problem(403, "Forbidden", f"role {actor.role!r} may not; needs {', '.join(roles)}")


@router.get("/work-orders", response_model=WorkOrderPage, summary="List work orders")
async def list_work_orders(
    pool: PoolDep,
    actor: ActorDep,
    state: Annotated[State | None, Query()] = None,
    tenant_id: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")] = None,
    cursor: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Work orders the caller may see: a tenant its own, a technician its assigned ones."""
    items = await call(
        service.list_orders(
            pool, actor, tenant_id=tenant_id, state=state, before_id=cursor, limit=limit
        )
    )
    return {"items": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}


@router.post(
    "/work-orders",
    status_code=201,
    response_model=WorkOrderDetail,
    summary="Create a work order by hand (from an alert, a device or a site)",
)
async def create_work_order(body: WorkOrderIn, pool: PoolDep, actor: ActorDep) -> dict[str, Any]:
    """With alert_id the alert's device and tenant are used (an open work order of the device
    takes the alert instead); otherwise tenant_id and title are required."""
    _need(actor, "operator")
    if body.alert_id is not None:
        return await call(dispatch.from_alert(pool, body.alert_id, body.priority, actor))
    tenant = actor.tenant_id or body.tenant_id
    if tenant is None or not body.title.strip():
        raise Problem(422, "Unprocessable Content", "give alert_id, or tenant_id and a title")
    new = _order(tenant, "manual", body, tuple(body.skills))
    return await call(service.create(pool, new, actor))


def _order(
    tenant: str, source: str, body: WorkOrderIn | RequestIn, skills: tuple[str, ...] = ()
) -> service.NewOrder:
    try:
        return service.NewOrder(
            tenant_id=tenant,
            title=body.title,
            priority=body.priority,
            source=source,
            device_id=body.device_id,
            site_id=body.site_id,
            description=body.description,
            skills=skills,
        )
    except ValueError as exc:
        raise Problem(422, "Unprocessable Content", str(exc)) from exc


@router.post(
    "/requests",
    status_code=201,
    response_model=WorkOrderDetail,
    summary="Raise a service request (a tenant's users)",
)
async def raise_request(body: RequestIn, pool: PoolDep, actor: ActorDep) -> dict[str, Any]:
    """A customer asks for service; the work order starts as new for the dispatcher."""
    _need(actor, "customer", "operator")
    tenant = actor.tenant_id or body.tenant_id
    if tenant is None:
        raise Problem(422, "Unprocessable Content", "a provider-wide key must give tenant_id")
    new = _order(tenant, "request", body)
    return await call(service.create(pool, new, actor))


@router.get("/work-orders/{wo_id}", response_model=WorkOrderDetail, summary="One work order")
async def get_work_order(wo_id: WoId, pool: PoolDep, actor: ActorDep) -> dict[str, Any]:
    """The work order, its audit trail, alerts, time, parts, notes, attachments and clocks."""
    return await call(service.detail(pool, wo_id, actor))


@router.post(
    "/work-orders/{wo_id}/transitions",
    response_model=WorkOrderDetail,
    summary="Change a work order's state",
)
async def transition(
    wo_id: WoId, body: TransitionIn, pool: PoolDep, actor: ActorDep
) -> dict[str, Any]:
    """Dispatchers move anything; a technician accepts, travels, works, holds and completes."""
    move = Move(
        to=State(body.to),
        reason=body.reason,
        hold=HoldReason(body.hold) if body.hold else None,
        technician_id=body.technician_id,
        scheduled_for=body.scheduled_for,
    )
    return await call(service.transition(pool, wo_id, move, actor))


@router.post("/work-orders/{wo_id}/time", status_code=201, summary="Record travel or work time")
async def add_time(wo_id: WoId, body: TimeIn, pool: PoolDep, actor: ActorDep) -> dict[str, Any]:
    """Entries of one technician may not overlap; an entry must end after it starts."""
    return await call(
        work.add_time(
            pool,
            wo_id,
            actor,
            kind=body.kind,
            started_at=body.started_at,
            ended_at=body.ended_at,
            technician_id=body.technician_id,
            note=body.note,
        )
    )


@router.post("/work-orders/{wo_id}/parts", status_code=201, summary="Record a part used")
async def add_part(wo_id: WoId, body: PartUseIn, pool: PoolDep, actor: ActorDep) -> dict[str, Any]:
    """The part must be in the price list; its current price is kept with the use."""
    return await call(
        work.add_part(pool, wo_id, actor, part_no=body.part_no, quantity=body.quantity)
    )


@router.post("/work-orders/{wo_id}/notes", status_code=201, summary="Add a note")
async def add_note(wo_id: WoId, body: NoteIn, pool: PoolDep, actor: ActorDep) -> dict[str, Any]:
    """Anyone who sees the work order (customers too) may add a note."""
    return await call(work.add_note(pool, wo_id, actor, body.body))


@router.post("/work-orders/{wo_id}/sign-off", summary="The customer signs the work off")
async def sign_off(wo_id: WoId, body: SignOffIn, pool: PoolDep, actor: ActorDep) -> dict[str, Any]:
    """Once, after completion."""
    return await call(work.sign_off(pool, wo_id, actor, body.name))


@router.put(
    "/work-orders/{wo_id}/attachments/{name}",
    status_code=201,
    summary="Attach a photo or document (raw body, at most 768 KiB)",
)
async def attach(
    wo_id: WoId,
    name: Annotated[str, Path(min_length=1, max_length=200)],
    request: Request,
    pool: PoolDep,
    actor: ActorDep,
) -> dict[str, Any]:
    """The request body is the file; Content-Type is kept."""
    data = await request.body()
    kind = request.headers.get("content-type", "application/octet-stream")[:100]
    return await call(
        work.add_attachment(pool, wo_id, actor, name=name, content_type=kind, data=data)
    )


@router.get(
    "/work-orders/{wo_id}/attachments/{att_id}",
    summary="Download an attachment",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download(wo_id: WoId, att_id: WoId, pool: PoolDep, actor: ActorDep) -> Response:
    """The stored bytes with their content type."""
    row = await call(work.attachment(pool, wo_id, att_id, actor))
    return Response(
        bytes(row["data"]),
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{row["id"]}"'},
    )


@router.get(
    "/work-orders/{wo_id}/suggestions",
    response_model=list[SuggestionOut],
    summary="Technicians suggested for a work order",
)
async def suggestions(
    wo_id: WoId,
    pool: PoolDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[Any]:
    """Ranked by skill, sites covered, open work orders and distance to the site."""
    _need(actor, "operator")
    return await call(work.suggest(pool, wo_id, actor, limit))


@router.get("/events", summary="The work-order change feed after an event id")
async def events(
    pool: PoolDep,
    actor: ActorDep,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[dict[str, Any]]:
    """Every audited change (poll with the last id seen)."""
    return await service.events_after(pool, actor, after, limit)


router.include_router(setup_router)
router.include_router(reports_router)
router.include_router(stream_router)
