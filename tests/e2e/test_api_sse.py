"""End to end: a reading published over MQTT -> ingest -> detector -> alert -> SSE stream."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from analytics.monitor.detect import run_detector
from api import service as keys
from registry import service as registry
from registry.models import Tenant
from servitize.db import Pool
from servitize.settings import Settings
from tests.integration.ingest_support import publish, running_ingest, seed
from tests.integration.test_api_support import live_server


async def _events(
    base: str, token: str, out: list[dict[str, Any]], path: str = "/api/v1/alerts/stream",
    **headers: str,
) -> None:  # fmt: skip
    """Collect SSE events (id, event, parsed data) from a stream until cancelled."""
    h = {"Authorization": f"Bearer {token}", **headers}
    async with (
        httpx.AsyncClient(base_url=base, timeout=None) as c,
        c.stream("GET", path, headers=h) as response,
    ):
        assert response.status_code == 200
        event: dict[str, Any] = {}
        async for line in response.aiter_lines():
            if not line:
                if "data" in event:
                    out.append(event)
                event = {}
                continue
            name, _, value = line.partition(":")
            event[name] = json.loads(value.strip()) if name == "data" else value.strip()


async def _until(check: Any, within: float) -> None:
    for _ in range(int(within * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no matching event in time")


async def test_sse_delivers_an_alert_raised_from_an_mqtt_reading(
    pool: Pool, db_url: str, broker_url: str
) -> None:
    devices = await seed(pool, n=1)
    await registry.save_tenant(pool, Tenant("globex", "Globex"))
    _, provider = await keys.create_key(pool, "operator")
    _, other = await keys.create_key(pool, "viewer", "globex")
    base_ts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    hot = [
        {"ts": (base_ts + timedelta(seconds=10 * i)).isoformat(),
         "metrics": {"bearing_temp_c": 60.0 if i < 20 else 97.0}}
        for i in range(40)
    ]  # fmt: skip
    seen: list[dict[str, Any]] = []
    foreign: list[dict[str, Any]] = []
    stop = asyncio.Event()
    detector = asyncio.create_task(run_detector(pool, stop))
    with live_server(Settings(database_url=db_url, mqtt_url=broker_url)) as base:
        readers = [
            asyncio.create_task(_events(base, provider, seen)),
            asyncio.create_task(_events(base, other, foreign)),
        ]
        try:
            async with running_ingest(pool, broker_url):
                await asyncio.sleep(0.5)  # streams connected, detector past existing batches
                await publish(broker_url, [(f"devices/{devices[0]}/telemetry", {"readings": hot})])
                await _until(lambda: any(e["event"] == "opened" for e in seen), within=30)
                await asyncio.sleep(1.0)  # give the other tenant's stream the same chance
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            stop.set()
            await asyncio.wait_for(detector, 10)
        resumed: list[dict[str, Any]] = []
        first_id = int(seen[0]["id"])
        reader = asyncio.create_task(
            _events(base, provider, resumed, **{"Last-Event-ID": str(first_id)})
        )
        await _until(lambda: len(resumed) >= len(seen) - 1, within=10)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    opened = [e for e in seen if e["event"] == "opened"]
    assert opened[0]["data"]["tenant_id"] == "acme"
    async with pool.acquire() as conn:
        alert = await conn.fetchrow(
            "SELECT * FROM alerts WHERE id = $1", opened[0]["data"]["alert_id"]
        )
    assert alert is not None and alert["device_id"] == devices[0]
    assert alert["metric"] == "bearing_temp_c"
    assert foreign == []
    # Resuming after the first event replays exactly the ones that followed it.
    assert [e["id"] for e in resumed[: len(seen) - 1]] == [e["id"] for e in seen[1:]]
