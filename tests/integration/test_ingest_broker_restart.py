"""A Mosquitto restart mid-stream, with the shipped broker and ingest settings, loses nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import aiomqtt
import pytest

from ingest import repository
from ingest.service import IngestConfig, IngestService
from registry import service as registry
from registry.models import Device, Tenant
from servitize.db import Pool
from servitize.infra import mosquitto_binary
from servitize.mqtturl import MqttUrl
from servitize.settings import Settings
from tests import services
from tests.deploy_broker import DeployBroker
from tests.integration.ingest_support import BASE, count

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="Mosquitto is not installed")

READINGS, RATE = 12_000, 800.0  # 15 s; bench/ingest_restart.py runs 100,000
INGEST_PASSWORD = "ingest-secret"


async def test_broker_restarts_mid_stream_lose_no_acknowledged_reading(
    pool: Pool, db_url: str
) -> None:
    broker = DeployBroker(services.WORK)
    device_password = await _register(pool, broker)
    broker.start()
    try:
        settings = Settings(database_url=db_url, mqtt_url=broker.url("ingest", INGEST_PASSWORD))
        async with _ingest(pool, settings) as service:
            restarts = asyncio.create_task(_restart_thrice(broker))
            acked = await publish_paced(broker.url("pump-0", device_password), READINGS, RATE)
            await restarts
            await settled(pool, acked)
    finally:
        broker.stop()
    assert acked == READINGS
    async with pool.acquire() as conn:
        rows = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT seq) AS seqs FROM telemetry"
        )
        counters = await repository.counters(conn)
    assert rows is not None and (rows["n"], rows["seqs"]) == (READINGS, READINGS)
    assert counters["accepted"] == READINGS
    # Each outage is retried at once first: the backoff restarts after every good connection.
    delays = service.reconnect_delays
    assert delays.count(0.0) == 3 and delays[0] == 0.0


async def _register(pool: Pool, broker: DeployBroker) -> str:
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(pool, Tenant("acme", "Acme Water"))
    passwords = await registry.register_devices(pool, [Device("pump-0", "pump-motor", "acme")])
    await broker.write_auth(pool, {"ingest": INGEST_PASSWORD})
    return passwords["pump-0"]


@asynccontextmanager
async def _ingest(pool: Pool, settings: Settings) -> AsyncIterator[IngestService]:
    """Ingest exactly as `servitize ingest` configures it from these settings."""
    assert settings.mqtt_url
    service = IngestService(pool, IngestConfig.from_settings(settings, settings.mqtt_url))
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    await asyncio.wait_for(service.connected.wait(), 10)
    try:
        yield service
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _restart_thrice(broker: DeployBroker) -> None:
    for _ in range(3):
        await asyncio.sleep(READINGS / RATE / 4)
        await asyncio.to_thread(broker.restart)


def payload(i: int) -> bytes:
    """Reading i, 100 ms after reading i - 1."""
    ts = BASE + timedelta(milliseconds=100 * i)
    return json.dumps({"ts": ts.isoformat(), "seq": i, "metrics": {"flow_m3h": i % 500}}).encode()


async def publish_paced(url: str, n: int, rate: float) -> int:
    """Publish readings 0..n-1 at `rate`/s as a device; each retried until the broker acks it."""
    broker, i, start = MqttUrl.parse(url), 0, time.monotonic()
    assert broker.username
    while i < n:
        try:
            async with aiomqtt.Client(
                broker.host,
                broker.port,
                username=broker.username,
                password=broker.password,
                identifier=broker.username,
                timeout=3,
            ) as client:
                while i < n:
                    await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                    await _publish(client, f"devices/{broker.username}/telemetry", payload(i))
                    i += 1  # acknowledged (PUBACK) by the broker
        except aiomqtt.MqttError:
            await asyncio.sleep(0.05)  # the broker is away: retry reading i on a new connection
    return i


async def _publish(client: aiomqtt.Client, topic: str, body: bytes) -> None:
    """Publish with QoS 1 and wait for the PUBACK, failing at once if the connection drops.

    (aiomqtt would wait for its timeout instead; a device notices a closed socket at once.)
    """
    sent = asyncio.ensure_future(client.publish(topic, body, qos=1))
    gone = client._disconnected
    await asyncio.wait({sent, gone}, return_when=asyncio.FIRST_COMPLETED)
    if not sent.done():
        sent.cancel()
        raise aiomqtt.MqttError("connection lost before the PUBACK")
    await sent


async def settled(pool: Pool, n: int, quiet_s: float = 5.0) -> int:
    """Wait until n rows are stored or the count stops growing for quiet_s; the count."""
    last, since = -1, time.monotonic()
    while (stored := await count(pool, "SELECT count(*) FROM telemetry")) < n:
        if stored != last:
            last, since = stored, time.monotonic()
        elif time.monotonic() - since > quiet_s:
            break
        await asyncio.sleep(0.2)
    return stored
