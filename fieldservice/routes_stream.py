"""Work-order changes as Server-Sent Events (id = fs_events id; resume with Last-Event-ID)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sse_starlette.sse import EventSourceResponse

from api import sse
from fieldservice import service
from fieldservice.http import ActorDep, PoolDep

router = APIRouter()
CHANNEL = "servitize_fieldservice"


@router.get("/events/stream", summary="Live work-order changes (Server-Sent Events)")
async def stream(
    request: Request,
    pool: PoolDep,
    actor: ActorDep,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> EventSourceResponse:
    """Every audited change the caller may see, as it happens."""
    start = sse.last_event_id(last_event_id, after)

    async def fetch(last: int) -> list[dict[str, Any]]:
        return await service.events_after(pool, actor, last)

    return EventSourceResponse(sse.feed(request, pool, CHANNEL, fetch, start, _action))


def _action(ev: dict[str, Any]) -> str:
    return str(ev["action"])
