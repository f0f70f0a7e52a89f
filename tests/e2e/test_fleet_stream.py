"""Fleet transitions streamed over SSE from a live server, each tenant seeing its own."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from fleet import service
from fleet.models import NewCommand
from servitize.db import Pool
from servitize.settings import Settings
from tests.e2e.test_api_sse import _until
from tests.integration.test_api_support import live_server, seed


async def _collect(base: str, headers: dict[str, str], out: list[dict[str, Any]]) -> None:
    async with (
        httpx.AsyncClient(base_url=base, timeout=None) as c,
        c.stream("GET", "/api/v1/fleet/events/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        event: dict[str, Any] = {}
        async for line in response.aiter_lines():
            if not line:
                if "data" in event:
                    out.append(event)
                event = {}
                continue
            key, _, value = line.partition(":")
            event[key] = json.loads(value.strip()) if key == "data" else value.strip()


async def test_stream_shows_own_tenants_transitions(pool: Pool, db_url: str) -> None:
    world = await seed(pool)
    seen: list[dict[str, Any]] = []
    with live_server(Settings(database_url=db_url, mqtt_url=None)) as base:
        task = asyncio.create_task(_collect(base, world.headers("viewer", "acme"), seen))
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
