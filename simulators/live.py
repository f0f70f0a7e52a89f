"""Fleet-scale live mode: thousands of devices' live readings multiplexed over a few connections."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from servitize.mqtturl import MqttUrl
from simulators.faults import FaultPlanner
from simulators.fleet import Fleet
from simulators.messages import OutMessage, encode, events_topic, telemetry_topic
from simulators.publisher import PublishStats, publish_fleet
from simulators.realtime import Timeline, sleep_until
from simulators.stream import DeviceStream


def _pending(stream: DeviceStream) -> deque[tuple[int, str, dict[str, Any]]]:
    chunk = stream.next_chunk()
    items = [(r["ts"], "t", r) for r in chunk.readings()]
    items += [(e.ts_ms, "e", e.payload()) for e in chunk.events]
    return deque(sorted(items, key=lambda x: x[0]))


async def live_messages(
    streams: list[DeviceStream], timeline: Timeline, stop: asyncio.Event
) -> AsyncIterator[OutMessage]:
    """Each device's next reading (one per message, as live devices send) when it falls due.

    A device's next hour is generated only when its first reading is due, and the loop yields
    after each generation, so thousands of devices never stall the publishing connections.
    """
    queues: list[deque[tuple[int, str, dict[str, Any]]]] = [deque() for _ in streams]
    heap = [(s.next_ms, i) for i, s in enumerate(streams)]
    heapq.heapify(heap)
    while heap and not stop.is_set():
        due, i = heap[0]
        wall = timeline.wall_ms(due)
        if wall > time.time() * 1000:
            await sleep_until(stop, wall)
            continue
        heapq.heappop(heap)
        if not queues[i]:
            queues[i] = _pending(streams[i])
            await asyncio.sleep(0)
        if queues[i] and queues[i][0][0] <= due:
            _, kind, body = queues[i].popleft()
            body["ts"] = wall
            device = streams[i].spec.id
            topic = telemetry_topic(device) if kind == "t" else events_topic(device)
            yield OutMessage(topic, encode(body))
        heapq.heappush(heap, (queues[i][0][0] if queues[i] else streams[i].next_ms, i))


async def run_fleet_live(
    fleet: Fleet,
    mqtt_url: str | MqttUrl,
    planner: FaultPlanner,
    stop: asyncio.Event,
    *,
    speedup: float = 1.0,
    connections: int = 4,
) -> PublishStats:
    """Publish the fleet live over `connections` shared clients until stop is set."""
    now = int(time.time() * 1000)
    streams = [DeviceStream(d, now, planner) for d in fleet.devices]
    timeline = Timeline(now, now, speedup)
    return await publish_fleet(
        mqtt_url, live_messages(streams, timeline, stop), connections=connections
    )
