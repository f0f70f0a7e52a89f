"""Helpers for fleet tests: run the fleet runtime, ingest (presence) and simulated devices."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiomqtt

from fleet.models import RetryPolicy, Transfer
from fleet.runtime import FleetConfig, FleetRuntime
from servitize.db import Pool
from servitize.mqtturl import MqttUrl
from simulators.agent import DeviceAgent
from simulators.device_client import DeviceClient
from tests.integration.ingest_support import running_ingest


@asynccontextmanager
async def running_fleet(
    pool: Pool, broker_url: str, client_id: str | None = None, **overrides: Any
) -> AsyncIterator[FleetRuntime]:
    """A FleetRuntime in this event loop for the duration of the block."""
    config = FleetConfig(
        mqtt=MqttUrl.parse(broker_url),
        client_id=client_id or f"fleet-{time.monotonic_ns()}",
        tick_s=0.2,
        retry=overrides.pop("retry", RetryPolicy(base_s=0.5, cap_s=2.0)),
        transfer=overrides.pop("transfer", Transfer(chunk_bytes=1024, download_secret=b"test")),
    )
    runtime = FleetRuntime(pool, config)
    for name, value in overrides.items():
        setattr(runtime, name, value)
    async with _running(runtime.run, runtime.connected):
        yield runtime


@asynccontextmanager
async def _running(
    run: Callable[[asyncio.Event], Coroutine[Any, Any, object]], ready: asyncio.Event
) -> AsyncIterator[None]:
    """Run `run(stop)` until the block ends, once `ready` is set."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(stop))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


@asynccontextmanager
async def running_services(pool: Pool, broker_url: str) -> AsyncIterator[FleetRuntime]:
    """Ingest (for presence) and the fleet runtime."""
    async with running_ingest(pool, broker_url), running_fleet(pool, broker_url) as fleet:
        yield fleet


@asynccontextmanager
async def running_devices(broker_url: str, agents: list[DeviceAgent]) -> AsyncIterator[None]:
    """Several simulated devices connected for the duration of the block."""
    async with AsyncExitStack() as stack:
        for agent in agents:
            await stack.enter_async_context(running_device(broker_url, agent))
        yield


@asynccontextmanager
async def running_device(
    broker_url: str, agent: DeviceAgent | None, device_id: str = "", *, mqtt5: bool = False
) -> AsyncIterator[DeviceClient]:
    """A simulated device connected for the duration of the block."""
    ident = agent.device_id if agent is not None else device_id
    url = MqttUrl.parse(broker_url)
    client = DeviceClient(ident, url, agent=agent, mqtt5=mqtt5)
    try:
        async with _running(client.run, client.connected):
            yield client
    finally:
        await _forget_retained(url, ident)


async def _forget_retained(url: MqttUrl, device_id: str) -> None:
    """Clear the device's retained status: the broker is shared by the whole run, and later
    tests' ingest (counting messages) must not be dealt it. The twin delta stays retained,
    as the fleet runtime left it."""
    async with aiomqtt.Client(url.host, url.port) as cleaner:
        await cleaner.publish(f"devices/{device_id}/status", b"", qos=1, retain=True)


async def states(pool: Pool, *command_ids: str) -> list[str]:
    """States of commands, in the order given."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, state FROM fleet_commands WHERE id = ANY($1)", list(command_ids)
        )
    found = {r["id"]: r["state"] for r in rows}
    return [found[c] for c in command_ids]
