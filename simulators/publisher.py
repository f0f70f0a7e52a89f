"""Publishing many devices' messages over a few MQTT connections with bounded in-flight QoS 1.

Messages of one device always travel on the same connection, so they arrive in order.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import zlib
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass

import aiomqtt

from servitize.mqtturl import MqttUrl
from simulators.messages import OutMessage

# QoS 1 messages awaiting PUBACK per connection. Mosquitto's no-drop config allows 2000
# in flight; 200 keeps the pipe full on loopback without large broker queues.
DEFAULT_INFLIGHT = 200


@dataclass
class PublishStats:
    """What a publish run sent."""

    messages: int = 0
    bytes: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Messages per second."""
        return self.messages / self.seconds if self.seconds > 0 else 0.0


def _lane(device_id: str, lanes: int) -> int:
    return zlib.crc32(device_id.encode()) % lanes


async def _aiter(
    messages: Iterable[OutMessage] | AsyncIterable[OutMessage],
) -> AsyncIterable[OutMessage]:
    if isinstance(messages, AsyncIterable):
        async for m in messages:
            yield m
    else:
        for i, m in enumerate(messages):
            yield m
            if i % 256 == 255:
                await asyncio.sleep(0)  # let publishers run while a sync source generates


class PublishError(RuntimeError):
    """The broker could not be reached or dropped a publishing connection."""


async def publish_fleet(
    mqtt_url: str | MqttUrl,
    messages: Iterable[OutMessage] | AsyncIterable[OutMessage],
    *,
    connections: int = 4,
    max_inflight: int = DEFAULT_INFLIGHT,
    client_prefix: str = "servitize-sim",
    on_progress: Callable[[PublishStats], None] | None = None,
) -> PublishStats:
    """Publish every message at QoS 1 over `connections` clients; returns once all are acked."""
    if connections < 1 or max_inflight < 1:
        raise ValueError("publish_fleet needs at least one connection and one in-flight slot")
    url = mqtt_url if isinstance(mqtt_url, MqttUrl) else MqttUrl.parse(mqtt_url)
    stats = PublishStats()
    run_id = uuid.uuid4().hex[:8]  # concurrent runs on one broker must not share client ids
    started = time.perf_counter()
    queues = [Lane(maxsize=2 * max_inflight) for _ in range(connections)]
    try:
        async with asyncio.TaskGroup() as tg:
            for i, queue in enumerate(queues):
                ident = f"{client_prefix}-{run_id}-{i}"
                tg.create_task(_connection(url, ident, queue, stats, max_inflight))
            last = time.perf_counter()
            async for message in _aiter(messages):
                await queues[_lane(message.device_id, connections)].put(message)
                if on_progress and time.perf_counter() - last > 1.0:
                    last, stats.seconds = time.perf_counter(), time.perf_counter() - started
                    on_progress(stats)
            for queue in queues:
                for _ in range(max_inflight):
                    await queue.put(None)
    except* (aiomqtt.MqttError, OSError) as group:
        raise PublishError(f"MQTT broker {url}: {group.exceptions[0]}") from None
    stats.seconds = time.perf_counter() - started
    return stats


Lane = asyncio.Queue[OutMessage | None]


async def _connection(
    url: MqttUrl, ident: str, queue: Lane, stats: PublishStats, max_inflight: int
) -> None:
    """One client draining one lane with max_inflight concurrent QoS 1 publishes."""
    async with aiomqtt.Client(
        url.host, url.port, username=url.username, password=url.password, identifier=ident,
        max_inflight_messages=max_inflight, max_queued_outgoing_messages=0, timeout=60,
    ) as client:  # fmt: skip
        client.pending_calls_threshold = max_inflight + 1  # silence aiomqtt's warning
        await asyncio.gather(*(_worker(client, queue, stats) for _ in range(max_inflight)))


async def _worker(client: aiomqtt.Client, queue: Lane, stats: PublishStats) -> None:
    while (message := await queue.get()) is not None:
        await client.publish(message.topic, message.payload, qos=1, retain=message.retain)
        stats.messages += 1
        stats.bytes += len(message.payload)
