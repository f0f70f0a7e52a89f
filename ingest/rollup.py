"""Plain-PostgreSQL upkeep that TimescaleDB does by policy: 1 min / 1 h rollups and retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from servitize.db import Connection, Pool, transaction
from servitize.storage import StoragePath, active_path

log = logging.getLogger(__name__)

# Batches younger than this may still have uncommitted lower ids (bigserial ids are taken
# at insert, not at commit); waiting a little keeps the checkpoint from skipping them.
SETTLE_S = 5.0
_LOCK_KEY = 0x5E7_0011  # one rollup worker at a time across ingest processes

_ROLLUP = """
INSERT INTO {table} AS r (device_id, metric, bucket, min_value, max_value, avg_value,
                          sum_value, n, last_value)
SELECT t.device_id, t.metric, date_bin(INTERVAL '{width}', t.ts, TIMESTAMPTZ '2000-01-01Z') AS b,
       min(value), max(value), avg(value), sum(value), count(*),
       (array_agg(value ORDER BY ts DESC))[1]
FROM telemetry t
JOIN unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS s(d, lo, hi)
  ON t.device_id = s.d
 AND t.ts >= date_bin(INTERVAL '{width}', s.lo, TIMESTAMPTZ '2000-01-01Z')
 AND t.ts < date_bin(INTERVAL '{width}', s.hi, TIMESTAMPTZ '2000-01-01Z') + INTERVAL '{width}'
WHERE t.flags = 0
GROUP BY 1, 2, 3
ON CONFLICT (device_id, metric, bucket) DO UPDATE SET
    min_value = EXCLUDED.min_value, max_value = EXCLUDED.max_value,
    avg_value = EXCLUDED.avg_value, sum_value = EXCLUDED.sum_value, n = EXCLUDED.n,
    last_value = EXCLUDED.last_value
"""


async def refresh_rollups(conn: Connection, settle_s: float = SETTLE_S) -> int:
    """Fold batches committed since the last run into the rollup tables; returns batches done."""
    checkpoint = int(
        await conn.fetchval("SELECT value FROM servitize_meta WHERE key = 'rollup_batch_id'")
    )
    rows = await conn.fetch(
        """SELECT d, min(b.min_ts) AS lo, max(b.max_ts) AS hi, max(b.id) AS last_id
            FROM ingest_batches b, unnest(b.device_ids) AS d
            WHERE b.id > $1 AND b.committed_at < now() - make_interval(secs => $2)
              AND b.min_ts IS NOT NULL
            GROUP BY d""",
        checkpoint,
        settle_s,
    )
    if not rows:
        return 0
    spans = ([r["d"] for r in rows], [r["lo"] for r in rows], [r["hi"] for r in rows])
    for table, width in (("telemetry_1m", "1 minute"), ("telemetry_1h", "1 hour")):
        await conn.execute(_ROLLUP.format(table=table, width=width), *spans)
    last: int = max(r["last_id"] for r in rows)
    await conn.execute(
        "UPDATE servitize_meta SET value = $1 WHERE key = 'rollup_batch_id'", str(last)
    )
    return last - checkpoint


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
    """On plain PostgreSQL, keep rollups fresh and enforce retention until stopped."""
    async with pool.acquire() as conn:
        if await active_path(conn) is StoragePath.TIMESCALE:
            return  # continuous aggregates and policies do this inside the database
    while not stop.is_set():
        try:
            await upkeep_once(pool, retention_days)
        except Exception as exc:
            log.warning("rollup/retention run failed: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)


async def upkeep_once(pool: Pool, retention_days: int, settle_s: float = SETTLE_S) -> None:
    """One rollup + retention pass, skipped if another process holds the lock."""
    async with transaction(pool) as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _LOCK_KEY):
            return
        done = await refresh_rollups(conn, settle_s)
        gone = await apply_retention(conn, retention_days)
    if done or gone:
        log.info("upkeep: %d batches rolled up, %d expired rows deleted", done, gone)
