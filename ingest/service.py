"""The ingest service: MQTT in, batched idempotent writes, acknowledgement after commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiomqtt

from ingest import read_repository, repository
from ingest.batch import Batch, Delivery
from ingest.counters import Counters
from ingest.models import Parsed
from ingest.registry_cache import RegistryCache
from ingest.session import (
    VERSION_TOPIC,
    VERSION_WAIT_S,
    Backoff,
    UnsafeBrokerError,
    ingest_client_id,
    is_mosquitto,
    shared_group_risk,
)
from ingest.topics import subscriptions
from ingest.validation import Limits, internal_error, parse_message
from ingest.writer import BatchWriter
from servitize.db import ConfigError, Pool
from servitize.mqtturl import MqttUrl
from servitize.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class IngestConfig:
    """How one ingest instance connects and batches."""

    mqtt: MqttUrl
    client_id: str = "servitize-ingest-1"
    # '' = a plain persistent subscription, which the broker restores after a restart.
    group: str = ""
    # Run a $share group on Mosquitto anyway (it loses messages when the broker restarts).
    allow_mosquitto_share: bool = False
    batch_max_rows: int = 5000
    batch_max_delay_s: float = 0.2
    registry_refresh_s: float = 5.0
    writers: int = 2
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_settings(cls, settings: Settings, mqtt_url: str) -> IngestConfig:
        """Build from SERVITIZE_* settings."""
        mqtt = MqttUrl.parse(mqtt_url)
        return cls(
            mqtt=mqtt,
            client_id=ingest_client_id(settings.ingest_client_id, mqtt),
            group=settings.ingest_group,
            allow_mosquitto_share=settings.ingest_allow_mosquitto_share,
            batch_max_rows=settings.ingest_batch_max_rows,
            batch_max_delay_s=settings.ingest_batch_max_delay_ms / 1000,
            registry_refresh_s=settings.ingest_registry_refresh_s,
            writers=settings.ingest_writers,
            limits=Limits(
                max_payload_bytes=settings.ingest_max_payload_bytes,
                max_readings=settings.ingest_max_batch_readings,
                max_future=timedelta(seconds=settings.ingest_max_future_s),
                retention=timedelta(days=settings.telemetry_retention_days),
            ),
        )


class IngestService:
    """One ingest process. Several can share a broker group; each needs its own client id."""

    def __init__(self, pool: Pool, config: IngestConfig) -> None:
        self.pool, self.config = pool, config
        self.registry = RegistryCache(pool, config.registry_refresh_s)
        # Several writers let one batch's COPY overlap another's commit; each has its own
        # counter rows so they never wait on each other there.
        self.writers = [BatchWriter(pool, f"{config.client_id}#{i}") for i in range(config.writers)]
        self.counters = Counters()
        self.connected = asyncio.Event()
        self._queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=config.writers)
        self._pending = Batch()
        self._client: aiomqtt.Client | None = None
        self._generation = 0
        self.backoff = Backoff()
        self.reconnect_delays: list[float] = []  # what each lost connection waited
        self.broker_version: str | None = None
        self.fatal: str | None = None
        self._share_checked = False
        self._clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, then commit and acknowledge what is in hand."""
        await self.registry.load()
        log.info("ingest %s: %d devices known", self.config.client_id, len(self.registry.devices))
        writers = [asyncio.create_task(self._write_loop(w)) for w in self.writers]
        helpers = [
            asyncio.create_task(self.registry.run(stop)),
            asyncio.create_task(self._timer(stop)),
        ]
        consumer = asyncio.create_task(self._consume_forever(stop))
        await stop.wait()
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
        await self._handoff()
        for _ in writers:
            await self._queue.put(None)
        await asyncio.gather(*writers)
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        if self.fatal:
            raise ConfigError(self.fatal)

    async def _consume_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._consume_once()
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                # At once after a blip (the loss window is the time without a session), then
                # backing off to every 5 s during an outage; reset by each good connection.
                delay = self.backoff.next_delay()
                self.reconnect_delays.append(delay)
                log.warning("broker connection lost (%s); reconnecting in %.2f s", exc, delay)
                await asyncio.sleep(delay)
            except UnsafeBrokerError as exc:
                self.fatal = f"ingest refuses to start: {exc}"
                log.error("%s", self.fatal)
                stop.set()
                return

    def _new_client(self) -> aiomqtt.Client:
        url = self.config.mqtt
        client = aiomqtt.Client(
            url.host,
            url.port,
            username=url.username,
            password=url.password,
            identifier=self.config.client_id,
            clean_session=False,
            keepalive=30,
        )
        # aiomqtt lets paho acknowledge a QoS 1 message as soon as it arrives; we take the
        # acknowledgement over so the broker keeps (and redelivers) every message until its
        # rows are committed. aiomqtt exposes no switch, so we set it on its paho client.
        client._client.manual_ack_set(True)
        return client

    async def _consume_once(self) -> None:
        async with self._new_client() as client:
            self._client, self._generation = client, self._generation + 1
            if self.config.group and not self._share_checked:
                await self._check_shared_group(client)
                self._share_checked = True
            for topic_filter in subscriptions(self.config.group):
                await client.subscribe(topic_filter, qos=1)
            self.connected.set()
            self.backoff.reset()
            log.info("subscribed as %s to %s", self.config.client_id, self.config.mqtt)
            async for message in client.messages:
                await self._accept(message)
                # aiomqtt's iterator starts two tasks per message; under load the queue is
                # rarely empty, so take what is already there directly (~2x throughput).
                queue = client._queue
                while not queue.empty():
                    await self._accept(queue.get_nowait())

    async def _check_shared_group(self, client: aiomqtt.Client) -> None:
        """Ask the broker what it is; refuse a $share group where a restart loses messages."""
        await client.subscribe(VERSION_TOPIC, qos=0)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(VERSION_WAIT_S):
                async for message in client.messages:
                    if message.topic.value == VERSION_TOPIC:
                        raw = message.payload if isinstance(message.payload, bytes) else b""
                        self.broker_version = raw.decode("utf-8", "replace")
                        break
                    await self._accept(message)  # the persistent session's backlog
        await client.unsubscribe(VERSION_TOPIC)
        risk = shared_group_risk(self.config.group, self.broker_version)
        if risk and is_mosquitto(self.broker_version) and not self.config.allow_mosquitto_share:
            raise UnsafeBrokerError(risk)
        if risk:
            log.warning("%s", risk)

    async def _accept(self, message: aiomqtt.Message) -> None:
        if message.topic.value.startswith("$SYS/"):
            return  # the broker's own news (a re-published version after its restart)
        payload = message.payload if isinstance(message.payload, bytes) else b""
        try:
            parsed = parse_message(
                message.topic.value,
                payload,
                self.registry.devices,
                self.registry.ranges,
                self._clock(),
                self.config.limits,
            )
        except Exception as exc:  # a validator bug must not stop ingest: record, ack, go on
            log.exception("validator failed on a message from %s", message.topic.value)
            parsed = Parsed(rejects=[internal_error(message.topic.value, payload, exc)])
        self._pending.add(Delivery(message.mid, message.qos, self._generation, parsed))
        if self._pending.rows >= self.config.batch_max_rows:
            await self._handoff()

    async def _handoff(self) -> None:
        """Pass the pending batch to the writer; waits while the writer is behind."""
        if not self._pending.deliveries:
            return
        batch, self._pending = self._pending, Batch()
        await self._queue.put(batch)

    async def _timer(self, stop: asyncio.Event) -> None:
        tick = self.config.batch_max_delay_s / 4
        while not stop.is_set():
            await asyncio.sleep(tick)
            age = time.monotonic() - self._pending.opened
            if self._pending.deliveries and age >= self.config.batch_max_delay_s:
                await self._handoff()

    @property
    def retries(self) -> int:
        """Database retries so far (all writers)."""
        return sum(w.retries for w in self.writers)

    @property
    def isolated_batches(self) -> int:
        """Batches stored message by message after the database refused them whole."""
        return sum(w.isolated for w in self.writers)

    async def _write_loop(self, writer: BatchWriter) -> None:
        while (batch := await self._queue.get()) is not None:
            committed = await writer.commit(batch)
            self._ack(batch)
            self.counters.record(committed.counts, batch)

    def _ack(self, batch: Batch) -> None:
        client = self._client
        for d in batch.deliveries:
            # A message from an earlier connection is redelivered by the broker after the
            # reconnect; its packet id means nothing on the new connection.
            if d.qos > 0 and client is not None and d.generation == self._generation:
                client._client.ack(d.mid, d.qos)


# Reads for other domains, inside the caller's transaction (conn): analytics judges batches and
# readings, billing meters usage and availability. They never query ingest's tables themselves.
batches_after = read_repository.batches_after
newest_batch_id = read_repository.newest_batch_id
batch_readings = read_repository.batch_readings
batch_events = read_repository.batch_events
recent_readings = read_repository.recent_readings
device_readings = read_repository.device_readings
clean_readings = read_repository.clean_readings
device_silence = read_repository.silence
event_counts = read_repository.event_counts
reading_counts = read_repository.reading_counts
availability = read_repository.availability
counter_totals = repository.counters


async def reachable(pool: Pool, device_ids: list[str]) -> set[str]:
    """Devices that are connected now, by what ingest saw (status topic, Last Will, silence)."""
    async with pool.acquire() as conn:
        return set(await repository.reachable_devices(conn, device_ids))
