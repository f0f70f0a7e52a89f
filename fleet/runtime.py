"""`servitize fleet run`: one MQTT 5 client that sends due commands and consumes replies.

The loop is stateless between ticks: what to send, when to resend and what has expired all
live in the database, so a restart repeats nothing and loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fleet import ota_runtime, service, twin_service
from fleet.models import Command, RetryPolicy, Transfer
from fleet.topics import SERVICE_SUBSCRIPTIONS, Uplink, UplinkTopic, command_topic, reply_topic
from fleet.wire import command_payload, expiry_interval_s, loads_object, parse_reply
from ingest import service as ingest
from servitize.db import Pool
from servitize.mqtturl import MqttUrl

log = logging.getLogger(__name__)
Handler = Callable[[UplinkTopic, bytes, datetime], Awaitable[None]]


@dataclass
class FleetConfig:
    """How the fleet runtime connects and paces itself."""

    mqtt: MqttUrl
    client_id: str = "servitize-fleet-1"
    tick_s: float = 1.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    transfer: Transfer = field(default_factory=Transfer)


class FleetRuntime:
    """Dispatch loop plus reply consumer; other fleet parts add handlers and tick jobs."""

    def __init__(self, pool: Pool, config: FleetConfig) -> None:
        self.pool, self.config = pool, config
        self.connected = asyncio.Event()
        self.wake = asyncio.Event()
        self.handlers: dict[Uplink, Handler] = {
            Uplink.REPLY: self._on_reply,
            Uplink.TWIN_REPORTED: self._on_twin,
        }
        self.jobs: list[Callable[[datetime], Awaitable[object]]] = [self._commands, self._twins]
        self.client: aiomqtt.Client | None = None
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        ota_runtime.install(self)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until stop is set, reconnecting with backoff."""
        async with self.pool.acquire() as listen:
            # A command queued by the API or a campaign wakes the loop at once (NOTIFY).
            await listen.add_listener("servitize_fleet", self._poke)
            try:
                await self._run(stop)
            finally:
                await listen.remove_listener("servitize_fleet", self._poke)

    def _poke(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if str(payload).startswith("command:QUEUED:"):  # our own transitions need no wake-up
            self.wake.set()

    async def _run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            task = asyncio.create_task(self._session(stop))
            try:
                await task
                backoff = 0.5
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                log.warning("fleet: broker connection lost (%s); retry in %.1f s", exc, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 30.0)

    def _client(self) -> aiomqtt.Client:
        url = self.config.mqtt
        connect = _properties(PacketTypes.CONNECT)
        connect.SessionExpiryInterval = 3600  # replies wait at the broker while we restart
        return aiomqtt.Client(
            url.host, url.port, username=url.username, password=url.password,
            identifier=self.config.client_id, protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False, properties=connect, keepalive=30,
        )  # fmt: skip

    async def _session(self, stop: asyncio.Event) -> None:
        async with self._client() as client:
            self.client = client
            for topic in SERVICE_SUBSCRIPTIONS:
                await client.subscribe(topic, qos=1)
            self.connected.set()
            tasks = [asyncio.create_task(c) for c in (self._read(client), self._tick(stop))]
            stopper = asyncio.create_task(stop.wait())
            done, pending = await asyncio.wait(
                {*tasks, stopper}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                task.result()
        self.connected.clear()

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else b""
            await self.handle(message.topic.value, payload)

    async def handle(self, topic: str, payload: bytes) -> None:
        """Route one uplink message; bad input is logged in one line and dropped."""
        try:
            parsed = UplinkTopic.parse(topic)
            if parsed.kind is Uplink.STATUS:
                self.wake.set()  # a device came back (or left): look at the queue now
                return
            handler = self.handlers.get(parsed.kind)
            if handler is not None:
                await handler(parsed, payload, self.clock())
        except ValueError as exc:
            log.warning("fleet: dropped message on %s: %s", topic, exc)
        except Exception:  # a database hiccup must not end the session; the device resends
            log.exception("fleet: failed to handle a message on %s", topic)

    async def _tick(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for job in self.jobs:
                try:
                    await job(self.clock())
                except aiomqtt.MqttError:
                    raise
                except Exception:  # one failing job must not stop the others
                    log.exception("fleet: job %s failed", getattr(job, "__name__", job))
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.config.tick_s)

    async def _on_reply(self, topic: UplinkTopic, payload: bytes, now: datetime) -> None:
        assert topic.command_id is not None
        reply = parse_reply(topic.command_id, payload)
        await service.apply_reply(self.pool, topic.device_id, reply, now)

    async def _on_twin(self, topic: UplinkTopic, payload: bytes, now: datetime) -> None:
        await twin_service.apply_report(self.pool, topic.device_id, loads_object(payload))

    async def _twins(self, now: datetime) -> None:
        async def retained(topic: str, payload: bytes) -> None:
            await self.publish(topic, payload, retain=True)

        await twin_service.publish_deltas(self.pool, retained)

    async def _commands(self, now: datetime) -> None:
        await service.sweep(self.pool, now)
        waiting = await service.pending_devices(self.pool, now)
        online = sorted(await ingest.reachable(self.pool, waiting)) if waiting else []
        await service.dispatch(self.pool, online, self.publish_command, self.config.retry, now)

    async def publish_command(self, cmd: Command, now: datetime) -> None:
        """Publish one command (QoS 1, waits for PUBACK) with its MQTT 5 properties."""
        assert self.client is not None
        props = _properties(PacketTypes.PUBLISH)
        props.CorrelationData = cmd.id.encode()
        props.ResponseTopic = reply_topic(cmd.device_id, cmd.id)
        expiry = expiry_interval_s(cmd, now)
        if expiry is not None:
            props.MessageExpiryInterval = max(expiry, 1)
        topic = command_topic(cmd.device_id, cmd.id)
        await self.client.publish(topic, command_payload(cmd, now), qos=1, properties=props)

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish any downlink message (QoS 1)."""
        assert self.client is not None
        await self.client.publish(topic, payload, qos=1, retain=retain)


def _properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]
