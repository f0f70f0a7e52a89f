"""Nothing lost, nothing doubled: crashes, restarts and several ingest processes."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from servitize.db import Pool
from tests import services
from tests.integration.ingest_support import (
    count,
    eventually,
    publish,
    reading,
    seed,
    spawn_ingest,
)

TELEMETRY = "SELECT count(*) FROM telemetry"


def _needs_mosquitto() -> None:
    # The amqtt fallback broker (used where Mosquitto is not installed) has neither shared
    # subscriptions nor redelivery of unacknowledged messages to a returning session.
    if not services.shared_subscriptions():
        pytest.skip("needs Mosquitto (shared subscriptions, persistent QoS 1 sessions)")


def messages(devices: list[str], per_device: int, size: int = 10) -> list[tuple[str, object]]:
    """per_device batch messages of `size` readings for each device."""
    out: list[tuple[str, object]] = []
    for d in devices:
        for m in range(per_device):
            readings = [reading(m * size + i) for i in range(size)]
            out.append((f"devices/{d}/telemetry", {"readings": readings}))
    return out


async def _wait_connected(pool: Pool, broker_url: str) -> None:
    """Wait until a spawned ingest has subscribed, by seeing it store a probe reading."""
    probe = [("devices/probe-0/telemetry", reading(0))]

    async def stored() -> bool:
        # Published again each poll: a probe sent before the subscription is not kept.
        await publish(broker_url, probe)
        await asyncio.sleep(0.2)
        return await count(pool, "SELECT count(*) FROM telemetry WHERE device_id = 'probe-0'") > 0

    await eventually(stored, within=30)


async def test_kill_9_mid_stream_then_restart_stores_every_reading_once(
    pool: Pool, db_url: str, broker_url: str
) -> None:
    _needs_mosquitto()
    devices = await seed(pool, 4)
    await seed(pool, 1, prefix="probe")
    group, client = f"k{time.monotonic_ns()}", f"crashy-{os.getpid()}"
    proc = spawn_ingest(db_url, broker_url, client, group)
    try:
        await _wait_connected(pool, broker_url)
        sent = messages(devices, 100)  # 4,000 readings
        publisher = asyncio.create_task(publish(broker_url, sent))
        await eventually(lambda: _more_than(pool, 500), within=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        await publisher  # the broker keeps queueing for the dead session
        proc = spawn_ingest(db_url, broker_url, client, group)
        await eventually(lambda: _exactly(pool, 4000 + 1), within=60)
        await asyncio.sleep(1.0)  # anything redelivered late must still not double
        assert await count(pool, TELEMETRY) == 4001
    finally:
        proc.kill()
        proc.wait(10)


async def _more_than(pool: Pool, n: int) -> bool:
    return await count(pool, TELEMETRY) > n


async def _exactly(pool: Pool, n: int) -> bool:
    return await count(pool, TELEMETRY) == n


async def test_two_ingest_processes_share_the_load_exactly_once(
    pool: Pool, db_url: str, broker_url: str
) -> None:
    _needs_mosquitto()
    devices = await seed(pool, 6)
    await seed(pool, 1, prefix="probe")
    group = f"s{time.monotonic_ns()}"
    procs = [spawn_ingest(db_url, broker_url, f"{group}-{i}", group) for i in range(2)]
    try:
        await _wait_connected(pool, broker_url)
        await asyncio.sleep(1.0)  # let the second member join before the burst
        await publish(broker_url, messages(devices, 50))  # 3,000 readings
        await eventually(lambda: _exactly(pool, 3001), within=60)
        async with pool.acquire() as conn:
            # counter rows are per writer ("<client id>#<n>"): sum them per process
            per_instance = await conn.fetch(
                "SELECT split_part(instance, '#', 1) AS instance, sum(value) AS value "
                "FROM ingest_counters WHERE name = 'accepted' GROUP BY 1"
            )
        assert len(per_instance) == 2 and all(r["value"] > 0 for r in per_instance)
        assert sum(r["value"] for r in per_instance) == 3001
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(20)
