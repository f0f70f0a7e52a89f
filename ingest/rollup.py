"""Upkeep of the 1 min / 1 h rollups on both storage paths, and plain-path retention.

Every committed ingest batch records the time range it touched (`ingest_batches`) with
`rolled_up = false`. One upkeep pass takes the pending batches, re-aggregates exactly those
ranges from raw rows (plain PostgreSQL: upserts into the rollup tables; TimescaleDB:
`refresh_continuous_aggregate` over the same ranges, see ingest/aggregates.py) and only then
marks the batches rolled up. The API reads raw rows from a device's oldest pending batch on,
so a reading is in the API's buckets from its commit, whether it is live, late or backfilled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from ingest import aggregates
from ingest.pending import PASS_BATCHES, Pending, mark_rolled_up, pending_batches
from ingest.spans import Window, bucket_windows
from servitize.db import Connection, Pool, transaction
from servitize.storage import StoragePath, active_path

log = logging.getLogger(__name__)

_LOCK_KEY = 0x5E7_0011  # one rollup worker at a time across ingest processes

_ROLLUP = """
INSERT INTO {table} AS r (device_id, metric, bucket, min_value, max_value, avg_value,
                          sum_value, n, last_value)
SELECT t.device_id, t.metric, date_bin(INTERVAL '{width}', t.ts, TIMESTAMPTZ '2000-01-01Z') AS b,
       min(value), max(value), avg(value), sum(value), count(*),
       (array_agg(value ORDER BY ts DESC))[1]
FROM telemetry t
JOIN unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS s(d, lo, hi)
  ON t.device_id = s.d AND t.ts >= s.lo AND t.ts < s.hi
WHERE t.flags = 0
GROUP BY 1, 2, 3
ON CONFLICT (device_id, metric, bucket) DO UPDATE SET
    min_value = EXCLUDED.min_value, max_value = EXCLUDED.max_value,
    avg_value = EXCLUDED.avg_value, sum_value = EXCLUDED.sum_value, n = EXCLUDED.n,
    last_value = EXCLUDED.last_value
"""


def device_windows(batches: Sequence[Pending], width: str) -> list[tuple[str, datetime, datetime]]:
    """Per device, the merged whole-bucket windows its pending batches touched."""
    spans: dict[str, list[Window]] = defaultdict(list)
    for batch in batches:
        for device_id in batch.device_ids:
            spans[device_id].append(batch.span)
    return [(d, lo, hi) for d in sorted(spans) for lo, hi in bucket_windows(spans[d], width)]


async def refresh_rollups(conn: Connection) -> int:
    """Plain path: fold pending batches into the rollup tables; returns batches done."""
    batches = await pending_batches(conn)
    if not batches:
        return 0
    for table, width, sql_width in (
        ("telemetry_1m", "1m", "1 minute"),
        ("telemetry_1h", "1h", "1 hour"),
    ):
        windows = device_windows(batches, width)
        columns = [list(c) for c in zip(*windows, strict=True)]
        await conn.execute(_ROLLUP.format(table=table, width=sql_width), *columns)
    await mark_rolled_up(conn, batches)
    return len(batches)


async def apply_retention(conn: Connection, days: int) -> int:
    """Delete telemetry and events older than the retention window; returns rows deleted."""
    deleted = 0
    for table in ("telemetry", "device_events", "telemetry_1m", "telemetry_1h"):
        column = "bucket" if table.startswith("telemetry_1") else "ts"
        status = await conn.execute(
            f"DELETE FROM {table} WHERE {column} < now() - make_interval(days => $1)", days
        )
        deleted += int(status.split()[-1])
    return deleted


async def run_upkeep(
    pool: Pool, stop: asyncio.Event, interval_s: float, retention_days: int
) -> None:
    """Keep the rollups (and, on plain PostgreSQL, retention) up to date until stopped."""
    while not stop.is_set():
        try:
            # A full pass means a backlog: keep going without waiting.
            while await upkeep_once(pool, retention_days) >= PASS_BATCHES and not stop.is_set():
                pass
        except Exception as exc:
            log.warning("rollup/retention run failed: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)


async def upkeep_once(pool: Pool, retention_days: int) -> int:
    """One pass on the active path, skipped if another process holds the lock; batches done."""
    async with pool.acquire() as conn:
        path = await active_path(conn)
    if path is StoragePath.TIMESCALE:
        return await aggregates.refresh_pass(pool, _LOCK_KEY)
    async with transaction(pool) as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _LOCK_KEY):
            return 0
        done = await refresh_rollups(conn)
        gone = await apply_retention(conn, retention_days)
    if done or gone:
        log.info("upkeep: %d batches rolled up, %d expired rows deleted", done, gone)
    return done
