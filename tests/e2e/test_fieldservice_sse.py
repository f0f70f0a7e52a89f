"""End to end: work-order changes reach a live Server-Sent Events stream, per tenant."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from fieldservice import service
from fieldservice.models import Actor
from servitize.db import Pool
from servitize.settings import Settings
from tests.e2e.test_api_sse import _until
from tests.integration.test_api_support import live_server, seed

DISPATCHER = Actor(name="test", role="operator", tenant_id=None)


async def _collect(base: str, token: str, out: list[dict[str, Any]]) -> None:
    h = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=base, timeout=None) as c,
        c.stream("GET", "/api/v1/service/events/stream", headers=h) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                out.append(json.loads(line.partition(":")[2]))


async def test_stream_delivers_changes_of_the_callers_tenant_only(pool: Pool, db_url: str) -> None:
    world = await seed(pool)
    seen: list[dict[str, Any]] = []
    with live_server(Settings(database_url=db_url, mqtt_url=None)) as base:
        task = asyncio.create_task(_collect(base, world.tokens[("customer", "acme")], seen))
        try:
            await asyncio.sleep(0.5)
            for tenant in ("globex", "acme"):
                new = service.NewOrder(
                    tenant_id=tenant,
                    title=f"{tenant} check",
                    priority="p3",
                    source="manual",
                    device_id=f"{tenant}-r1",
                )
                await service.create(pool, new, DISPATCHER)
            await _until(lambda: any(e["tenant_id"] == "acme" for e in seen), within=15)
        finally:
            task.cancel()
    assert {e["tenant_id"] for e in seen} == {"acme"}
    assert [e["action"] for e in seen] == ["created"]
