"""Rollups on plain PostgreSQL and the TimescaleDB path (hypertables, continuous aggregates)."""

from __future__ import annotations

import pytest

from ingest.rollup import upkeep_once
from servitize import db
from servitize.db import Pool
from servitize.storage import StoragePath, active_path, bucket_sql
from tests.integration.ingest_support import (
    BASE,
    count,
    eventually,
    publish,
    reading,
    running_ingest,
    seed,
)

# 180 readings one second apart: three full minutes from a minute boundary.
START = BASE.replace(second=0)


def _burst() -> list[tuple[str, object]]:
    rows = [reading(i, {"flow_m3h": float(i)}, base=START) for i in range(180)]
    return [("devices/pump-0/telemetry", {"readings": rows})]


async def _ingest_burst(pool: Pool, broker_url: str) -> None:
    await seed(pool, 1)
    async with running_ingest(pool, broker_url):
        await publish(broker_url, _burst())
        await eventually(lambda: _rows(pool, 180))


async def _rows(pool: Pool, n: int) -> bool:
    return await count(pool, "SELECT count(*) FROM telemetry") == n


def _distinct_minutes(path: StoragePath) -> str:
    bucket = bucket_sql(path, "INTERVAL '1 minute'", "ts")
    return f"SELECT count(DISTINCT {bucket}) FROM telemetry"


async def _minute_rollup(pool: Pool) -> list[tuple[float, float, float, int, float]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT min_value, max_value, avg_value, n, last_value FROM telemetry_1m "
            "WHERE device_id = 'pump-0' ORDER BY bucket"
        )
    return [tuple(r) for r in rows]


async def test_plain_rollups_match_hand_computed_minutes(pool: Pool, broker_url: str) -> None:
    await _ingest_burst(pool, broker_url)
    await upkeep_once(pool, retention_days=365)
    # minute k holds values 60k .. 60k+59: avg 60k + 29.5, last 60k + 59
    assert await _minute_rollup(pool) == [
        (0.0, 59.0, 29.5, 60, 59.0),
        (60.0, 119.0, 89.5, 60, 119.0),
        (120.0, 179.0, 149.5, 60, 179.0),
    ]
    async with pool.acquire() as conn:
        hour = await conn.fetchrow("SELECT sum(n) AS n, max(max_value) AS hi FROM telemetry_1h")
        assert hour is not None and (hour["n"], hour["hi"]) == (180, 179.0)
        sql = f"SELECT count(DISTINCT {bucket_sql(StoragePath.PLAIN, 'INTERVAL 1 minute', 'ts')})"
        assert (
            await conn.fetchval(
                sql.replace("INTERVAL 1 minute", "INTERVAL '1 minute'") + " FROM telemetry"
            )
            == 3
        )


async def test_plain_retention_deletes_only_expired_rows(pool: Pool, broker_url: str) -> None:
    await _ingest_burst(pool, broker_url)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE telemetry SET ts = ts - INTERVAL '400 days' WHERE value < 60")
    await upkeep_once(pool, retention_days=365)
    assert await count(pool, "SELECT count(*) FROM telemetry") == 120


@pytest.mark.timescale
async def test_timescale_ingest_hypertable_and_continuous_aggregate(
    timescale_url: str, broker_url: str
) -> None:
    pool = await db.create_pool(timescale_url, max_size=4)
    try:
        async with pool.acquire() as conn:
            assert await active_path(conn) is StoragePath.TIMESCALE
        await _ingest_burst(pool, broker_url)
        # Real-time aggregation answers before any refresh has materialised the buckets.
        assert await _minute_rollup(pool) == [
            (0.0, 59.0, 29.5, 60, 59.0),
            (60.0, 119.0, 89.5, 60, 119.0),
            (120.0, 179.0, 149.5, 60, 179.0),
        ]
        await upkeep_once(pool, retention_days=365)  # refreshes what the batches touched
        async with pool.acquire() as conn:
            chunks = await conn.fetchval(
                "SELECT count(*) FROM timescaledb_information.chunks "
                "WHERE hypertable_name = 'telemetry'"
            )
            assert chunks >= 1
            assert await conn.fetchval(_distinct_minutes(StoragePath.TIMESCALE)) == 3
        assert len(await _minute_rollup(pool)) == 3
    finally:
        await pool.close()
