"""Server-Sent Events from a change feed: events after an id, woken by a NOTIFY channel."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import Request

from api.problems import Problem
from servitize.db import Pool

# How long a stream waits for a notification before looking anyway.
POLL_S = 5.0
# The feed's rows after an event id; each has an `id` and an `action`.
Fetch = Callable[[int], Awaitable[list[dict[str, Any]]]]


def event_id(header: str | None) -> int:
    """The Last-Event-ID header as an event id (0 when absent); 400 when it is not one."""
    if header is None:
        return 0
    try:
        return max(int(header), 0)
    except ValueError:
        raise Problem(400, "Bad Request", "Last-Event-ID must be an event id") from None


async def events(
    request: Request, pool: Pool, channel: str, fetch: Fetch, last: int, poll_s: float = POLL_S
) -> AsyncIterator[dict[str, Any]]:
    """Every row after `last` as an SSE event (id = row id, event = action), until the client
    leaves; a notification on `channel` wakes the loop, else it looks every `poll_s`."""
    wake = asyncio.Event()

    def poke(*_: object) -> None:
        wake.set()

    async with pool.acquire() as listen:
        await listen.add_listener(channel, poke)
        try:
            while not await request.is_disconnected():
                wake.clear()
                for ev in await fetch(last):
                    last = ev["id"]
                    yield {"id": str(last), "event": ev["action"],
                           "data": json.dumps(ev, default=str)}  # fmt: skip
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), poll_s)
        finally:
            await listen.remove_listener(channel, poke)
