"""Real-time mode: every device its own MQTT client, readings sent when their time comes.

With speedup s the model runs s times faster than the wall clock and readings carry the wall
time they are sent at, so a demo shows patrols, daily cycles and faults within minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from servitize.mqtturl import MqttUrl
from simulators.agent import DeviceAgent
from simulators.device_client import ClientStats, DeviceClient
from simulators.faults import FaultPlanner
from simulators.fleet import Fleet
from simulators.models import Fault, FaultKind
from simulators.stream import DeviceStream


@dataclass(frozen=True)
class Timeline:
    """Maps model time to wall time: wall = wall_start + (model - model_start) / speedup."""

    model_start_ms: int
    wall_start_ms: int
    speedup: float = 1.0

    def __post_init__(self) -> None:
        if self.speedup <= 0:
            raise ValueError("speedup must be positive")

    def wall_ms(self, model_ms: int) -> int:
        """When (epoch ms) a model instant happens on the wall clock."""
        return self.wall_start_ms + round((model_ms - self.model_start_ms) / self.speedup)

    def fault(self, f: Fault) -> Fault:
        """A label moved onto the wall clock."""
        return dataclasses.replace(
            f, start_ms=self.wall_ms(f.start_ms), end_ms=self.wall_ms(f.end_ms)
        )


@dataclass
class RealtimeResult:
    """Per-device client statistics and the faults injected (wall-clock times)."""

    clients: dict[str, ClientStats]
    faults: list[Fault]


async def sleep_until(stop: asyncio.Event, wall_ms: int) -> None:
    """Sleep until an epoch-ms wall time, or until stop is set."""
    delay = wall_ms / 1000 - time.time()
    if delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


async def feed_device(
    stream: DeviceStream, client: DeviceClient, timeline: Timeline, stop: asyncio.Event,
    on_faults: Callable[[], None] | None = None,
) -> None:  # fmt: skip
    """Hand the device's readings, events and communication losses to its client on time."""
    silenced: set[Fault] = set()
    pace = _Pace(client)
    while not stop.is_set():
        known = len(stream.faults_seen)
        chunk = stream.next_chunk()
        if on_faults and len(stream.faults_seen) != known:
            on_faults()
        actions: list[tuple[int, int, Any]] = [(r["ts"], 1, r) for r in chunk.readings()]
        actions += [(e.ts_ms, 2, e.payload()) for e in chunk.events]
        for f in stream.active_faults:
            if f.kind == FaultKind.COMM_LOSS and f not in silenced:
                silenced.add(f)
                actions.append((f.start_ms, 0, f))
        for ts, kind, body in sorted(actions, key=lambda a: (a[0], a[1])):
            wall = timeline.wall_ms(ts)
            await sleep_until(stop, wall)
            if stop.is_set():
                return
            if kind == 0:
                client.go_silent((timeline.wall_ms(body.end_ms) - wall) / 1000)
            elif kind == 2 or pace.due(ts):
                body["ts"] = wall
                (client.send_reading if kind == 1 else client.send_event)(body)


class _Pace:
    """Thins readings to the reporting interval set through the twin (none set: all go)."""

    def __init__(self, client: DeviceClient) -> None:
        self.client = client
        self.last_ms: int | None = None

    def due(self, model_ms: int) -> bool:
        agent = self.client.agent
        interval = agent.reporting_interval_s if agent is not None else None
        if interval and self.last_ms is not None and model_ms - self.last_ms < interval * 1000:
            return False
        self.last_ms = model_ms
        return True


async def run_realtime(
    fleet: Fleet,
    mqtt_url: str | MqttUrl,
    planner: FaultPlanner,
    stop: asyncio.Event,
    *,
    passwords: dict[str, str] | None = None,
    speedup: float = 1.0,
    on_labels: Callable[[list[Fault]], None] | None = None,
    client_options: dict[str, Any] | None = None,
    start_ms: int | None = None,
    agents: Callable[[str], DeviceAgent] | None = None,
) -> RealtimeResult:
    """Run every device of the fleet live until stop is set."""
    url = mqtt_url if isinstance(mqtt_url, MqttUrl) else MqttUrl.parse(mqtt_url)
    now = start_ms if start_ms is not None else int(time.time() * 1000)
    timeline = Timeline(now, now, speedup)
    streams = [DeviceStream(d, now, planner) for d in fleet.devices]
    clients = [
        DeviceClient(
            d.id, url, (passwords or {}).get(d.id), agent=(agents or DeviceAgent)(d.id),
            **(client_options or {}),
        )
        for d in fleet.devices
    ]  # fmt: skip

    def labels() -> list[Fault]:
        return [timeline.fault(f) for s in streams for f in s.faults_seen]

    notify = (lambda: on_labels(labels())) if on_labels else None
    async with asyncio.TaskGroup() as tg:
        for stream, client in zip(streams, clients, strict=True):
            tg.create_task(client.run(stop))
            tg.create_task(feed_device(stream, client, timeline, stop, notify))
    if on_labels:
        on_labels(labels())
    return RealtimeResult({c.device_id: c.stats for c in clients}, labels())
