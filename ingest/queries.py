"""Telemetry read side: raw readings and 1 min / 1 h / 1 d buckets of one device.

Buckets come from the rollups (continuous aggregates on TimescaleDB, with real-time
aggregation). On plain PostgreSQL the rollup job folds in batches a little after they commit,
so from the oldest not-yet-folded batch on, the rollup's buckets are computed from raw
rows instead, and both parts are merged per output bucket.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from servitize.db import Pool
from servitize.storage import StoragePath, active_path, bucket_sql

WIDTHS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
# Which rollup each width reads: 1 d is re-bucketed from the hourly rollup.
_SOURCE = {"1m": "telemetry_1m", "1h": "telemetry_1h", "1d": "telemetry_1h"}
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_INTERVAL = {"1m": "INTERVAL '1 minute'", "1h": "INTERVAL '1 hour'", "1d": "INTERVAL '1 day'"}

_RAW = """SELECT metric, ts, value, seq, flags FROM telemetry
WHERE device_id = $1 AND ts >= $2 AND ts < $3 AND ($4::text[] IS NULL OR metric = ANY($4))
  AND ($5::text IS NULL OR (metric, ts) > ($5, $6::timestamptz))
ORDER BY metric, ts LIMIT $7"""

_PENDING = """SELECT min(b.min_ts) FROM ingest_batches b
WHERE b.id > (SELECT value::bigint FROM servitize_meta WHERE key = 'rollup_batch_id')
  AND $1 = ANY(b.device_ids)"""

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


def align(moment: datetime, width: str, *, up: bool = False) -> datetime:
    """The bucket boundary at or before (or, with up, at or after) a moment."""
    step = WIDTHS[width]
    n, rest = divmod(moment - _EPOCH, step)
    return _EPOCH + (n + (1 if up and rest else 0)) * step


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


async def _cut(conn: Any, path: StoragePath, device_id: str, width: str) -> datetime:
    """Where the rollup this width reads stops being complete for the device."""
    if path is StoragePath.TIMESCALE:
        return datetime.max.replace(tzinfo=UTC)
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
        cut = await _cut(conn, path, device_id, width)
        sql = _BUCKETS.format(
            source=_SOURCE[width],
            rolled_bucket=bucket_sql(path, _INTERVAL[width], "bucket"),
            raw_bucket=bucket_sql(path, _INTERVAL[width], "ts"),
        )
        rows = await conn.fetch(sql, device_id, start, end, metrics, *cursor, limit + 1, cut)
    return [dict(r) for r in rows]
