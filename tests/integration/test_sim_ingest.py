"""Simulated devices through the real ingest service: what the simulator sends is what is stored."""

from __future__ import annotations

import time

import numpy as np

from servitize.db import Pool
from simulators.accelerated import run_accelerated
from simulators.faults import DEMO, FaultPlanner
from simulators.fleet import fleet
from simulators.generate import Span
from simulators.labels import RunInfo
from simulators.service import register_fleet
from tests.integration.ingest_support import count, eventually, running_ingest

HOUR_MS = 3_600_000


async def test_accelerated_fleet_lands_in_telemetry(pool: Pool, broker_url: str) -> None:
    small = fleet("small", seed=11)
    await register_fleet(pool, small)
    end = int(time.time() * 1000) // HOUR_MS * HOUR_MS
    start = end - 6 * HOUR_MS
    span = Span(small, start, end, FaultPlanner(DEMO, start))
    # Count what is sent with a second, identical span (generation is deterministic).
    twin = Span(small, start, end, FaultPlanner(DEMO, start))
    values = sum(sum(int((~np.isnan(v)).sum()) for v in c.metrics.values()) for c in twin.chunks())
    info = RunInfo("small", 11, "accelerated", "demo", start, end)
    async with running_ingest(pool, broker_url):
        result = await run_accelerated(span, broker_url, None, info, progress=False)

        async def stored() -> bool:
            return await count(pool, "SELECT count(*) FROM telemetry") >= values

        await eventually(stored)
    assert await count(pool, "SELECT count(*) FROM telemetry") == values
    assert await count(pool, "SELECT count(*) FROM device_events") == result.events
    assert await count(pool, "SELECT count(DISTINCT device_id) FROM telemetry") == len(
        small.devices
    )
