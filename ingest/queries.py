"""Telemetry read side: raw readings and 1 min / 1 h / 1 d buckets of one device.

Buckets come from the rollups (continuous aggregates on TimescaleDB, tables on plain
PostgreSQL). The upkeep job folds batches in a little after they commit (ingest/rollup.py),
so on both paths, from the device's oldest not-yet-rolled-up batch on, buckets are computed
from raw rows instead, and both parts are merged per output bucket: a live, late or
backfilled reading is in the buckets from the moment its batch commits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ingest.spans import WIDTHS, align
from servitize.db import Pool
from servitize.storage import active_path, bucket_sql

__all__ = ["WIDTHS", "align", "buckets", "raw"]

# Which rollup each width reads: 1 d is re-bucketed from the hourly rollup.
_SOURCE = {"1m": "telemetry_1m", "1h": "telemetry_1h", "1d": "telemetry_1h"}
_INTERVAL = {"1m": "INTERVAL '1 minute'", "1h": "INTERVAL '1 hour'", "1d": "INTERVAL '1 day'"}

_RAW = """SELECT metric, ts, value, seq, flags FROM telemetry
WHERE device_id = $1 AND ts >= $2 AND ts < $3 AND ($4::text[] IS NULL OR metric = ANY($4))
  AND ($5::text IS NULL OR (metric, ts) > ($5, $6::timestamptz))
ORDER BY metric, ts LIMIT $7"""

_PENDING = """SELECT min(b.min_ts) FROM ingest_batches b
WHERE NOT b.rolled_up AND $1 = ANY(b.device_ids)"""

_BUCKETS = """WITH parts AS (
  SELECT metric, {rolled_bucket} AS bucket, min(min_value) AS lo, max(max_value) AS hi,
         sum(sum_value) AS total, sum(n)::int8 AS n, max(bucket) AS newest,
         (array_agg(last_value ORDER BY bucket DESC))[1] AS last_value
  FROM {source}
  WHERE device_id = $1 AND bucket >= $2 AND bucket < least($3, $8::timestamptz)
    AND ($4::text[] IS NULL OR metric = ANY($4))
  GROUP BY 1, 2
  UNION ALL
  SELECT metric, {raw_bucket}, min(value), max(value), sum(value), count(*)::int8, max(ts),
         (array_agg(value ORDER BY ts DESC))[1]
  FROM telemetry
  WHERE device_id = $1 AND ts >= greatest($2, $8::timestamptz) AND ts < $3 AND flags = 0
    AND ($4::text[] IS NULL OR metric = ANY($4))
  GROUP BY 1, 2
)
SELECT metric, bucket, min(lo) AS min_value, max(hi) AS max_value,
       sum(total) / sum(n) AS avg_value, sum(n)::int8 AS n,
       (array_agg(last_value ORDER BY newest DESC))[1] AS last_value
FROM parts
WHERE $5::text IS NULL OR (metric, bucket) > ($5, $6::timestamptz)
GROUP BY metric, bucket
ORDER BY metric, bucket LIMIT $7"""


async def raw(
    pool: Pool,
    device_id: str,
    span: tuple[datetime, datetime],
    metrics: list[str] | None,
    after: tuple[str, datetime] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Readings in [start, end), ordered by metric and time; limit+1 rows say more follow."""
    cursor = after or (None, None)
    async with pool.acquire() as conn:
        rows = await conn.fetch(_RAW, device_id, *span, metrics, *cursor, limit + 1)
    return [dict(r) for r in rows]


async def _cut(conn: Any, device_id: str, width: str) -> datetime:
    """Where the rollup this width reads stops being complete for the device."""
    pending: datetime | None = await conn.fetchval(_PENDING, device_id)
    source_width = "1h" if width == "1d" else width
    return align(pending, source_width) if pending else datetime.max.replace(tzinfo=UTC)


async def buckets(
    pool: Pool,
    device_id: str,
    width: str,
    span: tuple[datetime, datetime],
    metrics: list[str] | None,
    after: tuple[str, datetime] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Buckets of `width` covering [start, end) aligned outwards to whole buckets."""
    start, end = align(span[0], width), align(span[1], width, up=True)
    cursor = after or (None, None)
    async with pool.acquire() as conn:
        path = await active_path(conn)
        cut = await _cut(conn, device_id, width)
        sql = _BUCKETS.format(
            source=_SOURCE[width],
            rolled_bucket=bucket_sql(path, _INTERVAL[width], "bucket"),
            raw_bucket=bucket_sql(path, _INTERVAL[width], "ts"),
        )
        rows = await conn.fetch(sql, device_id, start, end, metrics, *cursor, limit + 1, cut)
    return [dict(r) for r in rows]
