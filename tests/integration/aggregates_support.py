"""Helpers for the rollup tests: ingest + upkeep as deployed, and buckets three ways.

The same buckets are read from the API, from the rollup storage itself (rollup tables, or
the continuous aggregates' materialization hypertables) and computed in SQL from raw rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import asyncpg
import httpx

from ingest.rollup import run_upkeep
from servitize.db import Pool
from servitize.storage import StoragePath, active_path
from tests.integration.ingest_support import count, eventually, publish, running_ingest

DEVICE = "acme-r1"
WIDTH_SQL = {"1m": "1 minute", "1h": "1 hour", "1d": "1 day"}
# metric, bucket, min, max, avg, n, last
Bucket = tuple[str, datetime, float, float, float, int, float]

_RAW = """SELECT metric, date_bin(INTERVAL '{w}', ts, TIMESTAMPTZ '2000-01-01Z') AS b,
       min(value), max(value), avg(value), count(*), (array_agg(value ORDER BY ts DESC))[1]
FROM telemetry WHERE device_id = $1 AND ts >= $2 AND ts < $3 AND flags = 0
GROUP BY 1, 2 ORDER BY 1, 2"""
_STORED = """SELECT metric, bucket, min_value, max_value, avg_value, n, last_value FROM {table}
WHERE device_id = $1 AND bucket >= $2 AND bucket < $3 ORDER BY 1, 2"""
_MATERIALIZED = """SELECT format('%I.%I', materialization_hypertable_schema,
       materialization_hypertable_name) FROM timescaledb_information.continuous_aggregates
WHERE view_name = $1"""


def readings(start: datetime, n: int, step_s: int, phase: int = 0) -> list[dict[str, object]]:
    """n readings step_s apart; quarter-valued (sums exact), every 97th temperature invalid."""
    out: list[dict[str, object]] = []
    for i in range(n):
        k = i + phase
        temp = 999.0 if k % 97 == 13 else 20 + (k * 37 % 400) / 4
        metrics = {"motor_temp_c": temp, "battery_pct": (k * 13 % 400) / 4}
        ts = start + timedelta(seconds=i * step_s)
        out.append({"ts": ts.isoformat(), "seq": k, "metrics": metrics})
    return out


async def send(broker_url: str, rows: list[dict[str, object]], per_message: int = 200) -> None:
    """Publish readings of DEVICE over MQTT in messages of per_message readings."""
    topic = f"devices/{DEVICE}/telemetry"
    chunks = [rows[i : i + per_message] for i in range(0, len(rows), per_message)]
    await publish(broker_url, [(topic, {"readings": c}) for c in chunks])


async def stored_rows(pool: Pool, n: int) -> None:
    """Wait until the telemetry table holds n readings (two metrics each)."""
    await eventually(lambda: _has(pool, 2 * n), within=60)


async def _has(pool: Pool, n: int) -> bool:
    return await count(pool, "SELECT count(*) FROM telemetry") >= n


@asynccontextmanager
async def deployed(pool: Pool, broker_url: str) -> AsyncIterator[None]:
    """Ingest consuming MQTT, and the upkeep loop `servitize ingest` runs (shorter interval)."""
    stop = asyncio.Event()
    upkeep = asyncio.create_task(run_upkeep(pool, stop, 0.25, 365))
    try:
        async with running_ingest(pool, broker_url):
            yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(upkeep, 30)


async def settled(pool: Pool) -> None:
    """Wait until the upkeep loop has rolled up every committed batch."""
    sql = "SELECT count(*) FROM ingest_batches WHERE NOT rolled_up"
    await eventually(lambda: _none(pool, sql), within=60)


async def _none(pool: Pool, sql: str) -> bool:
    return await count(pool, sql) == 0


async def run_policies(pool: Pool) -> None:
    """TimescaleDB: have the scheduler start the refresh policies now, and wait for the runs.

    The policies are the deployed ones, run by TimescaleDB's own background worker; only
    their next start is brought forward so a test need not wait a schedule interval.
    """
    async with pool.acquire() as conn:
        if await active_path(conn) is not StoragePath.TIMESCALE:
            return
        mark = await conn.fetchval("SELECT now()")
        await conn.execute(
            """SELECT alter_job(job_id, next_start => now()) FROM timescaledb_information.jobs
               WHERE proc_name = 'policy_refresh_continuous_aggregate'"""
        )
    sql = """SELECT count(*) FROM timescaledb_information.jobs j
             JOIN timescaledb_information.job_stats s USING (job_id)
             WHERE j.proc_name = 'policy_refresh_continuous_aggregate'
               AND (s.last_run_started_at < $1 OR s.job_status = 'Running')"""
    await eventually(lambda: _none_since(pool, sql, mark), within=60)


async def _none_since(pool: Pool, sql: str, mark: datetime) -> bool:
    return await count(pool, sql, mark) == 0


def _rows(records: Sequence[asyncpg.Record]) -> list[Bucket]:
    return [(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in records]


async def raw_buckets(pool: Pool, width: str, window: tuple[datetime, datetime]) -> list[Bucket]:
    """The buckets computed in SQL from raw rows (flagged readings left out)."""
    async with pool.acquire() as conn:
        return _rows(await conn.fetch(_RAW.format(w=WIDTH_SQL[width]), DEVICE, *window))


async def stored_buckets(pool: Pool, width: str, window: tuple[datetime, datetime]) -> list[Bucket]:
    """What the rollup storage itself holds (materialized rows only, no real-time part)."""
    view = {"1m": "telemetry_1m", "1h": "telemetry_1h"}[width]
    async with pool.acquire() as conn:
        table = view
        if await active_path(conn) is StoragePath.TIMESCALE:
            table = await conn.fetchval(_MATERIALIZED, view)
        return _rows(await conn.fetch(_STORED.format(table=table), DEVICE, *window))


async def api_buckets(
    c: httpx.AsyncClient, headers: dict[str, str], width: str, window: tuple[datetime, datetime]
) -> list[Bucket]:
    """Every bucket the API returns for the window, following the cursor."""
    params = {"from": window[0].isoformat(), "to": window[1].isoformat()}
    params |= {"resolution": width, "limit": "10000"}
    out: list[Bucket] = []
    while True:
        response = await c.get(
            f"/api/v1/devices/{DEVICE}/telemetry", params=params, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        out += [
            (
                b["metric"],
                datetime.fromisoformat(b["bucket"]),
                b["min_value"],
                b["max_value"],
                b["avg_value"],
                b["n"],
                b["last_value"],
            )
            for b in body["buckets"]
        ]
        if not body["next_cursor"]:
            return out
        params["after"] = body["next_cursor"]
