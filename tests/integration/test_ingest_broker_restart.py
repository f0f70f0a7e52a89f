"""A Mosquitto restart mid-stream, with the shipped broker and ingest settings, loses nothing."""

from __future__ import annotations

import asyncio

import pytest

from ingest import repository
from servitize.db import Pool
from servitize.infra import mosquitto_binary
from servitize.settings import Settings
from tests import services
from tests.deploy_broker import DeployBroker, publish_paced, settled, shipped_ingest

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="Mosquitto is not installed")

READINGS, RATE = 12_000, 800.0  # 15 s; bench/ingest_restart.py runs 100,000
INGEST_PASSWORD = "ingest-secret"


async def test_broker_restarts_mid_stream_lose_no_acknowledged_reading(
    pool: Pool, db_url: str
) -> None:
    broker = DeployBroker(services.WORK)
    device_password = await broker.one_device(pool, {"ingest": INGEST_PASSWORD})
    broker.start()
    try:
        settings = Settings(database_url=db_url, mqtt_url=broker.url("ingest", INGEST_PASSWORD))
        async with shipped_ingest(pool, settings) as service:
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


async def _restart_thrice(broker: DeployBroker) -> None:
    for _ in range(3):
        await asyncio.sleep(READINGS / RATE / 4)
        await asyncio.to_thread(broker.restart)
