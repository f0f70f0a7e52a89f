"""A Server-Sent Events feed over a table's change feed, woken by a NOTIFY channel.

Any domain with an id-ordered event table and a `pg_notify` can stream it: pass the channel
and a function returning the events after an id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import Request

from api.problems import Problem
from servitize.db import Pool

POLL_S = 5.0
# Event ids are bigint: a larger one cannot name an event (and would overflow the query).
MAX_EVENT_ID = 2**63 - 1
Fetch = Callable[[int], Awaitable[list[dict[str, Any]]]]


def rfc3339(value: object) -> str:
    """Times as the REST API writes them (2026-12-01T08:00:00.123+00:00), the rest as text."""
    iso = getattr(value, "isoformat", None)
    return str(iso()) if callable(iso) else str(value)


def last_event_id(header: str | None, after: int | None) -> int:
    """Where a stream resumes: ?after= wins over the Last-Event-ID header. Anything that is
    not an event id (0 .. 2^63-1; negative counts as 0) answers 400."""
    if after is not None:
        value = after
    elif header is None:
        return 0
    else:
        try:
            value = max(int(header.strip()), 0)
        except ValueError:
            value = MAX_EVENT_ID + 1
    if value > MAX_EVENT_ID:
        raise Problem(400, "Bad Request", "Last-Event-ID must be an event id (0 .. 2^63-1)")
    return value


async def feed(
    request: Request, pool: Pool, channel: str, fetch: Fetch, last: int,
    name: Callable[[dict[str, Any]], str],
) -> AsyncIterator[dict[str, Any]]:  # fmt: skip
    """SSE messages (id, event, data) for every event after `last`, until the client leaves."""
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
                    data = json.dumps(ev, default=rfc3339)
                    yield {"id": str(last), "event": name(ev), "data": data}
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_S)
        finally:
            await listen.remove_listener(channel, poke)
