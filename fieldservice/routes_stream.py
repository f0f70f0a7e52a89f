"""Work-order changes as Server-Sent Events (id = fs_events id; resume with Last-Event-ID)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sse_starlette.sse import EventSourceResponse

from api.problems import Problem
from fieldservice import service
from fieldservice.http import ActorDep, PoolDep
from fieldservice.models import Actor
from servitize.db import Pool

router = APIRouter()
CHANNEL = "servitize_fieldservice"
# How long a stream waits for a notification before looking anyway.
STREAM_POLL_S = 5.0


@router.get("/events/stream", summary="Live work-order changes (Server-Sent Events)")
async def stream(
    request: Request,
    pool: PoolDep,
    actor: ActorDep,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> EventSourceResponse:
    """Every audited change the caller may see, as it happens."""
    start = after if after is not None else _event_id(last_event_id)
    return EventSourceResponse(_events(request, pool, actor, start))


def _event_id(header: str | None) -> int:
    if header is None:
        return 0
    try:
        return max(int(header), 0)
    except ValueError:
        raise Problem(400, "Bad Request", "Last-Event-ID must be an event id") from None


async def _events(
    request: Request, pool: Pool, actor: Actor, last: int
) -> AsyncIterator[dict[str, Any]]:
    wake = asyncio.Event()

    def poke(*_: object) -> None:
        wake.set()

    async with pool.acquire() as listen:
        await listen.add_listener(CHANNEL, poke)
        try:
            while not await request.is_disconnected():
                wake.clear()
                for ev in await service.events_after(pool, actor, last):
                    last = ev["id"]
                    yield {
                        "id": str(last),
                        "event": ev["action"],
                        "data": json.dumps(ev, default=str),
                    }
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), STREAM_POLL_S)
        finally:
            await listen.remove_listener(CHANNEL, poke)
