"""Fleet API: commands and twins (packages and campaigns in fleet/campaign_routes.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from sse_starlette.sse import EventSourceResponse

from api import problems as p
from api import sse
from api.deps import PoolDep
from api.problems import Problem
from api.schemas import DEVICE_ID_PATTERN, MAX_PAGE
from api.security import Principal, require_role
from fleet import campaign_routes, download, service, twin_service
from fleet.errors import call
from fleet.models import NewCommand
from fleet.schemas import (
    CommandDetail,
    CommandIn,
    CommandPage,
    FleetEventOut,
    TwinOut,
    TwinPatch,
)
from servitize.db import Pool

router = APIRouter(prefix="/fleet", tags=["fleet"])

Reader = Annotated[Principal, Depends(require_role())]
Operator = Annotated[Principal, Depends(require_role("operator"))]
DevicePath = Annotated[str, Path(pattern=DEVICE_ID_PATTERN)]
CommandPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
PRECONDITION: p.Responses = {412: p._doc("If-Match is not the current version")}


async def device_tenant(pool: Pool, who: Principal, device_id: str) -> str:
    """The tenant of a device the caller may see; 404 otherwise."""
    tenant = await service.device_tenant(pool, device_id)
    if tenant is None or not who.can_see(tenant):
        raise Problem(404, "Not Found", f"device {device_id} not found")
    return tenant


def actor(who: Principal) -> str:
    """How the caller appears in audit trails."""
    return f"key:{who.key_id}"


@router.post(
    "/devices/{device_id}/commands", status_code=201, response_model=CommandDetail,
    responses=p.WRITE, summary="Queue a command for a device",
)  # fmt: skip
async def queue_command(
    device_id: DevicePath, body: CommandIn, pool: PoolDep, who: Operator
) -> Any:
    """Queued now, sent when the device is online, in order; never delivered past expires_at."""
    tenant = await device_tenant(pool, who, device_id)
    cmd = NewCommand(device_id=device_id, **body.model_dump())
    row = await call(service.queue(pool, cmd, tenant, actor(who)))
    return await call(service.get(pool, row["id"], who.tenant_id))


@router.get("/commands", response_model=CommandPage, responses=p.READ, summary="List commands")
async def list_commands(
    pool: PoolDep, who: Reader,
    device_id: Annotated[str | None, Query(pattern=DEVICE_ID_PATTERN)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Any:  # fmt: skip
    """Commands of the caller's tenant (a provider key sees all), newest first."""
    items = await service.list_commands(pool, who.tenant_id, device_id, before, limit)
    return {"items": items, "next_cursor": items[-1]["seq"] if len(items) == limit else None}


@router.get("/commands/{command_id}", response_model=CommandDetail, responses=p.READ)
async def get_command(command_id: CommandPath, pool: PoolDep, who: Reader) -> Any:
    """One command with every transition (timestamp, actor)."""
    return await call(service.get(pool, command_id, who.tenant_id))


@router.post("/commands/{command_id}/cancel", response_model=CommandDetail, responses=p.WRITE)
async def cancel_command(command_id: CommandPath, pool: PoolDep, who: Operator) -> Any:
    """Cancel a command the device has not received yet (409 once delivered)."""
    await call(service.cancel(pool, command_id, who.tenant_id, actor(who)))
    return await call(service.get(pool, command_id, who.tenant_id))


@router.get("/devices/{device_id}/twin", response_model=TwinOut, responses=p.READ)
async def get_twin(device_id: DevicePath, pool: PoolDep, who: Reader, response: Response) -> Any:
    """The twin; its ETag is the desired version to send back as If-Match."""
    twin = await call(twin_service.get(pool, device_id, who.tenant_id))
    response.headers["ETag"] = f'"{twin["desired_version"]}"'
    return twin


@router.patch("/devices/{device_id}/twin", response_model=TwinOut, responses=p.WRITE | PRECONDITION)
async def patch_twin(
    device_id: DevicePath, body: TwinPatch, pool: PoolDep, who: Operator, response: Response,
    if_match: Annotated[str | None, Header(pattern=r'^(W/)?"?[0-9]{1,9}"?$')] = None,
) -> Any:  # fmt: skip
    """Merge into desired; with If-Match the update is refused (412) unless it is current."""
    version = int(if_match.removeprefix("W/").strip('"')) if if_match else None
    twin = await call(
        twin_service.update_desired(
            pool, device_id, who.tenant_id, body.desired, version, actor(who)
        )
    )
    response.headers["ETag"] = f'"{twin["desired_version"]}"'
    return twin


@router.get("/events", response_model=list[FleetEventOut], responses=p.READ)
async def list_events(
    pool: PoolDep, who: Reader,
    after: Annotated[int, Query(ge=0, le=2**62, description="events after this id")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Any:  # fmt: skip
    """Every command, twin, update and campaign transition, oldest first (the audit trail)."""
    return await service.events_after(pool, after, who.tenant_id, limit)


@router.get("/events/stream", summary="Live fleet transitions (Server-Sent Events)")
async def stream_events(
    request: Request, pool: PoolDep, who: Reader,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0, description="resume after this event id")] = None,
) -> EventSourceResponse:  # fmt: skip
    """Each transition as an SSE event named `<subject>.<to_state>`; resume with Last-Event-ID."""

    async def fetch(last: int) -> list[dict[str, Any]]:
        return await service.events_after(pool, last, who.tenant_id)

    start = sse.last_event_id(last_event_id, after)
    return EventSourceResponse(sse.feed(request, pool, "servitize_fleet", fetch, start, _name))


def _name(event: dict[str, Any]) -> str:
    return f"{event['subject']}.{event['to_state']}"


router.include_router(campaign_routes.router)
router.include_router(download.router)
