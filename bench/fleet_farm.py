"""A farm of simulated fleet devices on a few MQTT connections (for benchmarks).

Each connection carries a slice of the devices: it subscribes to their downlink topics and
hands every message to the device's `DeviceAgent`, publishing what the agent answers. A
reboot is a pause of `reboot_s` before the agent's after-connect messages (the connection
itself stays up, so presence does not flap).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiomqtt

from fleet.topics import device_subscriptions
from servitize.mqtturl import MqttUrl
from simulators.agent import DeviceAgent


@dataclass
class FarmStats:
    """Messages the farm saw."""

    received: int = 0
    published: int = 0
    chunks: int = 0


class Farm:
    """Devices spread over `connections` MQTT clients."""

    def __init__(self, agents: list[DeviceAgent], broker: str, connections: int = 8) -> None:
        self.agents = {a.device_id: a for a in agents}
        self.url = MqttUrl.parse(broker)
        self.slices = [agents[i::connections] for i in range(connections)]
        self.stats = FarmStats()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Farm]:
        """Connect every slice; disconnect on exit."""
        ready = [asyncio.Event() for _ in self.slices]
        tasks = [
            asyncio.create_task(self._serve(s, e)) for s, e in zip(self.slices, ready, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), 60)
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, agents: list[DeviceAgent], ready: asyncio.Event) -> None:
        async with aiomqtt.Client(self.url.host, self.url.port, max_queued_outgoing_messages=0,
                                  max_inflight_messages=1000) as client:  # fmt: skip
            for agent in agents:
                for topic in device_subscriptions(agent.device_id):
                    await client.subscribe(topic, qos=1)
                await client.subscribe(f"bench/{agent.device_id}/echo", qos=1)
            ready.set()
            async for message in client.messages:
                await self._on(client, message)

    async def _on(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        payload = message.payload if isinstance(message.payload, bytes) else b""
        self.stats.received += 1
        if topic.startswith("bench/"):  # the baseline: a bare echo, no service in between
            await client.publish(f"{topic}/back", payload, qos=1)
            self.stats.published += 1
            return
        device_id = topic.split("/")[1]
        agent = self.agents[device_id]
        self.stats.chunks += topic.endswith("/ota/chunk")
        for out in agent.handle(topic, payload):
            await client.publish(out.topic, out.payload, qos=1)
            self.stats.published += 1
        if agent.take_reboot():
            asyncio.get_running_loop().call_later(
                agent.reboot_s, lambda: asyncio.ensure_future(self._rebooted(client, agent))
            )

    async def _rebooted(self, client: aiomqtt.Client, agent: DeviceAgent) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            for out in agent.on_connect():
                await client.publish(out.topic, out.payload, qos=1)
                self.stats.published += 1


async def echo_round_trips(broker: str, device_ids: list[str]) -> list[float]:
    """Baseline: one raw MQTT request/answer per device through the farm, seconds each."""
    url = MqttUrl.parse(broker)
    sent: dict[str, float] = {}
    rtts: list[float] = []
    done = asyncio.Event()
    async with aiomqtt.Client(url.host, url.port, max_inflight_messages=1000) as client:
        await client.subscribe("bench/+/echo/back", qos=1)

        async def collect() -> None:
            async for m in client.messages:
                rtts.append(time.perf_counter() - sent[m.topic.value.split("/")[1]])
                if len(rtts) == len(device_ids):
                    done.set()

        reader = asyncio.create_task(collect())
        for device_id in device_ids:
            sent[device_id] = time.perf_counter()
            await client.publish(f"bench/{device_id}/echo", b'{"ping":1}', qos=1)
        await asyncio.wait_for(done.wait(), 300)
        reader.cancel()
    return rtts
