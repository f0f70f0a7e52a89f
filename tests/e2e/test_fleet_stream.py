"""Fleet transitions streamed over SSE from a live server, each tenant seeing its own."""

from __future__ import annotations

import asyncio
from typing import Any

from fleet import service
from fleet.models import NewCommand
from servitize.db import Pool
from servitize.settings import Settings
from tests.e2e.test_api_sse import _events, _until
from tests.integration.test_api_support import live_server, seed


async def test_stream_shows_own_tenants_transitions(pool: Pool, db_url: str) -> None:
    world = await seed(pool)
    seen: list[dict[str, Any]] = []
    with live_server(Settings(database_url=db_url, mqtt_url=None)) as base:
        token = world.tokens[("viewer", "acme")]
        task = asyncio.create_task(_events(base, token, seen, "/api/v1/fleet/events/stream"))
        await asyncio.sleep(0.5)
        theirs = NewCommand(device_id="globex-r1", name="dock")
        await service.queue(pool, theirs, "globex", "test")
        mine = await service.queue(pool, NewCommand(device_id="acme-r1", name="dock"), "acme", "t")
        await service.cancel(pool, mine["id"], "acme", "test")
        await _until(lambda: len(seen) >= 2, within=15)
        task.cancel()
    assert [e["event"] for e in seen] == ["command.QUEUED", "command.CANCELED"]
    assert {e["data"]["subject_id"] for e in seen} == {mine["id"]}
    assert int(seen[1]["id"]) > int(seen[0]["id"])
