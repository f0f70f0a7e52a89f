"""One real-time device: its own MQTT connection with Last Will, reconnect with backoff and
a store-and-forward buffer that is flushed as batch messages after an outage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiomqtt

from servitize.mqtturl import MqttUrl
from simulators.agent import DeviceAgent
from simulators.messages import (
    MAX_BATCH_READINGS,
    encode,
    events_topic,
    first_batch,
    status_topic,
    telemetry_topic,
)

log = logging.getLogger(__name__)
# How long a stopping device may take to publish `offline` and disconnect cleanly.
_GOODBYE_S = 5.0


@dataclass
class ClientStats:
    """What one device client did."""

    readings_sent: int = 0
    events_sent: int = 0
    batches_sent: int = 0
    connects: int = 0
    dropped: int = 0


class DeviceClient:
    """An MQTT client acting as one device (username = device id)."""

    def __init__(
        self,
        device_id: str,
        broker: MqttUrl,
        password: str | None = None,
        *,
        buffer_limit: int = 100_000,
        backoff_s: tuple[float, float] = (0.5, 30.0),
        keepalive_s: int = 30,
        agent: DeviceAgent | None = None,
        mqtt5: bool = False,
    ) -> None:
        self.device_id = device_id
        self.broker = broker.with_credentials(device_id, password)
        self.buffer: deque[tuple[str, dict[str, Any]]] = deque()
        self.buffer_limit = buffer_limit
        self.backoff_s = backoff_s
        self.keepalive_s = keepalive_s
        self.stats = ClientStats()
        self.connected = asyncio.Event()
        self._wake = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._silent_until = 0.0
        self._dead = False
        self._jitter = random.Random(device_id)
        # Answers fleet commands and applies twin settings when given.
        self.agent = agent
        self.protocol = aiomqtt.ProtocolVersion.V5 if mqtt5 else aiomqtt.ProtocolVersion.V311

    def send_reading(self, reading: dict[str, Any]) -> None:
        """Queue a reading; it goes out now if connected, else after reconnecting."""
        self._enqueue("telemetry", reading)

    def send_event(self, event: dict[str, Any]) -> None:
        """Queue an event message."""
        self._enqueue("events", event)

    def _enqueue(self, kind: str, body: dict[str, Any]) -> None:
        if len(self.buffer) >= self.buffer_limit:
            self.buffer.popleft()  # a full buffer keeps the newest data, like device firmware
            self.stats.dropped += 1
        self.buffer.append((kind, body))
        self._wake.set()

    def crash(self) -> None:
        """Drop the connection without DISCONNECT, as a dying device does (the Will goes out)."""
        client = self._client
        sock = client._client.socket() if client is not None else None
        if isinstance(sock, socket.socket):
            self._dead = True  # publish nothing more on this connection while it goes down
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def go_silent(self, seconds: float) -> None:
        """Lose communication for a while: crash now, stay away, then reconnect."""
        self._silent_until = time.monotonic() + seconds
        self.crash()

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected (reconnecting with backoff) until stop is set."""
        failures = 0
        while not stop.is_set():
            await _wait(stop, self._silent_until - time.monotonic())
            if stop.is_set():
                break
            try:
                await self._bounded_session(stop)
                failures = 0
            except (aiomqtt.MqttError, OSError) as exc:
                self.connected.clear()
                failures += 1
                # The first failure of a streak is worth a warning (bad password, broker down).
                planned = self._silent_until > time.monotonic()  # a simulated comm loss
                level = logging.WARNING if failures == 1 and not planned else logging.DEBUG
                log.log(level, "%s: MQTT connection lost or refused: %s", self.device_id, exc)
                lo, hi = self.backoff_s
                delay = min(hi, lo * 2 ** min(failures - 1, 16)) * self._jitter.uniform(0.5, 1.0)
                await _wait(stop, delay)

    async def _bounded_session(self, stop: asyncio.Event) -> None:
        """Run a session; once stop is set, give it a few seconds to say goodbye, then cut it.

        A connect or disconnect may otherwise wait out aiomqtt's 10 s timeouts on a busy
        broker, and shutting down a fleet must not take that long.
        """
        session = asyncio.create_task(self._session(stop))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({session, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not session.done():
            done, _ = await asyncio.wait({session}, timeout=_GOODBYE_S)
            if not done:
                session.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await session

    async def _session(self, stop: asyncio.Event) -> None:
        will = aiomqtt.Will(status_topic(self.device_id), b"offline", qos=1, retain=True)
        b = self.broker
        async with aiomqtt.Client(
            b.host, b.port, username=b.username, password=b.password, identifier=self.device_id,
            will=will, keepalive=self.keepalive_s, timeout=10, protocol=self.protocol,
            clean_session=None if self.protocol == aiomqtt.ProtocolVersion.V5 else True,
        ) as client:  # fmt: skip
            self._client, self._dead = client, False
            try:
                if self.agent is not None:
                    for topic in self.agent.subscriptions():
                        await client.subscribe(topic, qos=1)
                await client.publish(status_topic(self.device_id), b"online", qos=1, retain=True)
                if self.agent is not None:
                    for out in self.agent.on_connect():
                        await client.publish(out.topic, out.payload, qos=1, retain=out.retain)
                self.stats.connects += 1
                self.connected.set()
                await self._serve(client, stop)
                # Stopping on purpose: say goodbye, but do not hang on a slow broker.
                status = status_topic(self.device_id)
                await client.publish(status, b"offline", qos=1, retain=True, timeout=2.0)
            finally:
                self.connected.clear()
                self._client = None

    async def _serve(self, client: aiomqtt.Client, stop: asyncio.Event) -> None:
        sender = asyncio.create_task(self._send_loop(client))
        watcher = asyncio.create_task(self._watch(client))
        stopper = asyncio.create_task(stop.wait())
        done, pending = await asyncio.wait(
            {sender, watcher, stopper}, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()  # re-raise a disconnection so run() backs off and reconnects

    async def _send_loop(self, client: aiomqtt.Client) -> None:
        while True:
            if self._dead:
                await asyncio.sleep(0.05)  # the watcher is about to see the connection end
                continue
            if not self.buffer:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._send_head(client)

    async def _send_head(self, client: aiomqtt.Client) -> None:
        """Send the oldest buffered item(s); remove them only once the broker acknowledged."""
        kind, body = self.buffer[0]
        if kind == "events":
            await client.publish(events_topic(self.device_id), encode(body), qos=1)
            self.buffer.popleft()
            self.stats.events_sent += 1
            return
        run = [b for _, b in _leading_telemetry(self.buffer)]
        topic = telemetry_topic(self.device_id)
        if len(run) == 1:
            await client.publish(topic, encode(run[0]), qos=1)
        else:
            payload, count = first_batch(run)
            run = run[:count]
            await client.publish(topic, payload, qos=1)
            self.stats.batches_sent += 1
        for _ in run:
            self.buffer.popleft()
        self.stats.readings_sent += len(run)

    async def _watch(self, client: aiomqtt.Client) -> None:
        """Answer downlink messages; returns (by raising MqttError) when the connection drops."""
        async for message in client.messages:
            if self.agent is None or self._dead:
                continue
            props = message.properties
            payload = message.payload if isinstance(message.payload, bytes) else b""
            outs = self.agent.handle(
                message.topic.value, payload,
                getattr(props, "ResponseTopic", None), getattr(props, "CorrelationData", None),
            )  # fmt: skip
            for out in outs:
                await client.publish(out.topic, out.payload, qos=1, retain=out.retain)
            if self.agent.take_reboot():  # offline briefly (the Will goes out), then back
                self.go_silent(self.agent.reboot_s)


def _leading_telemetry(
    buffer: deque[tuple[str, dict[str, Any]]],
) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for item in buffer:
        if item[0] != "telemetry" or len(out) >= MAX_BATCH_READINGS:
            break
        out.append(item)
    return out


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
