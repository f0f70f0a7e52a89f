"""Reads of ingest's tables that other domains make through ingest.service.

Analytics reads batches, readings and events to judge them; billing meters events and readings
and measures availability. The callers pass plain values (ids, times, intervals as arrays).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from servitize.db import Connection

# An interval of one device: (key, device id, start, end[, grid origin]); keys group the counts.
Interval = tuple[int, str, datetime, datetime]
GridInterval = tuple[int, str, datetime, datetime, datetime]
# A left-out span of one device: (device id, start, end).
Span = tuple[str, datetime, datetime]


async def batches_after(
    conn: Connection, last_id: int, gaps: list[int], limit: int
) -> list[asyncpg.Record]:
    """Batches with an id above last_id or among the gaps, in id order."""
    return await conn.fetch(
        "SELECT id, device_ids, min_ts, max_ts, ingested_at FROM ingest_batches "
        "WHERE id > $1 OR id = ANY($2::bigint[]) ORDER BY id LIMIT $3",
        last_id,
        gaps,
        limit,
    )


async def newest_batch_id(conn: Connection) -> int:
    """The id of the newest batch (0 when none)."""
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM ingest_batches"))


async def batch_readings(
    conn: Connection,
    devices: list[str],
    min_ts: datetime | None,
    max_ts: datetime | None,
    at: datetime,
) -> list[asyncpg.Record]:
    """Telemetry of one batch for some devices, ordered by device, metric, time."""
    return await conn.fetch(
        "SELECT device_id, metric, extract(epoch FROM ts)::float8 AS t, value FROM telemetry "
        "WHERE device_id = ANY($1) AND ts BETWEEN $2 AND $3 AND ingested_at = $4 "
        "ORDER BY device_id, metric, ts",
        devices,
        min_ts,
        max_ts,
        at,
    )


async def batch_events(
    conn: Connection,
    devices: list[str],
    min_ts: datetime | None,
    max_ts: datetime | None,
    at: datetime,
) -> list[asyncpg.Record]:
    """Device events of one batch for some devices, in time order."""
    return await conn.fetch(
        "SELECT device_id, extract(epoch FROM ts)::float8 AS t, type, code, severity, attrs "
        "FROM device_events WHERE device_id = ANY($1) AND ts BETWEEN $2 AND $3 "
        "AND ingested_at = $4 ORDER BY ts",
        devices,
        min_ts,
        max_ts,
        at,
    )


async def recent_readings(
    conn: Connection, devices: list[str], upto_batch: int, keep: int
) -> list[asyncpg.Record]:
    """The newest `keep` readings per series of the last 7 days, stored by batch upto_batch."""
    return await conn.fetch(
        "SELECT device_id, metric, t, value FROM (SELECT device_id, metric, "
        "extract(epoch FROM ts)::float8 AS t, value, row_number() OVER "
        "(PARTITION BY device_id, metric ORDER BY ts DESC) AS rn FROM telemetry "
        "WHERE device_id = ANY($1) AND ingested_at <= (SELECT coalesce(max(ingested_at), "
        "'-infinity') FROM ingest_batches WHERE id <= $2) "
        "AND ts > now() - interval '7 days') x "
        "WHERE rn <= $3 ORDER BY device_id, metric, t",
        devices,
        upto_batch,
        keep,
    )


async def device_readings(
    conn: Connection, device_id: str, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """One device's readings in [start, end), ordered by metric and time."""
    return await conn.fetch(
        "SELECT device_id, metric, extract(epoch FROM ts)::float8 AS t, value FROM telemetry "
        "WHERE device_id = $1 AND ts >= $2 AND ts < $3 ORDER BY metric, ts",
        device_id,
        start,
        end,
    )


async def clean_readings(
    conn: Connection, devices: list[str], start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """Unflagged readings of some devices in [start, end), ordered by device and time."""
    return await conn.fetch(
        "SELECT device_id, extract(epoch FROM ts)::float8 AS t, metric, value FROM telemetry "
        "WHERE device_id = ANY($1) AND ts >= $2 AND ts < $3 AND flags = 0 "
        "ORDER BY device_id, ts",
        devices,
        start,
        end,
    )


async def silence(conn: Connection, devices: list[str]) -> list[asyncpg.Record]:
    """Per device with a status: online flag, whether its Last Will still stands (offline
    reported and no message since), seconds silent, last reading and now (epoch)."""
    return await conn.fetch(
        "SELECT s.device_id, s.online, "
        "(s.online IS FALSE AND NOT coalesce(s.last_seen_at > s.status_changed_at, false)) "
        "AS will_stands, "
        "extract(epoch FROM now() - s.last_seen_at)::float8 AS silent, "
        "extract(epoch FROM coalesce(s.last_reading_ts, s.last_seen_at, now()))::float8 "
        "AS last_t, "
        "extract(epoch FROM now())::float8 AS now_t FROM device_status s "
        "WHERE s.device_id = ANY($1)",
        devices,
    )


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[r[i] for r in rows] for i in range(width)]


async def event_counts(
    conn: Connection, intervals: Sequence[Interval], types: list[str]
) -> dict[tuple[int, str], int]:
    """Events of the given types per (key, type), device timestamps inside each interval."""
    rows = await conn.fetch(
        """SELECT c.k, e.type, count(*) AS n
           FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[])
                AS c(k, device_id, t0, t1)
           JOIN device_events e
             ON e.device_id = c.device_id AND e.type = ANY($5::text[])
            AND e.ts >= c.t0 AND e.ts < c.t1
           GROUP BY c.k, e.type""",
        *_columns(intervals, 4),
        types,
    )
    return {(r["k"], r["type"]): r["n"] for r in rows}


async def reading_counts(conn: Connection, intervals: Sequence[Interval]) -> dict[int, int]:
    """Stored values per key, device timestamps inside each interval."""
    rows = await conn.fetch(
        """SELECT c.k, count(*) AS n
           FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[])
                AS c(k, device_id, t0, t1)
           JOIN telemetry tl
             ON tl.device_id = c.device_id AND tl.ts >= c.t0 AND tl.ts < c.t1
           GROUP BY c.k""",
        *_columns(intervals, 4),
    )
    return {r["k"]: r["n"] for r in rows}


async def availability(
    conn: Connection, intervals: Sequence[GridInterval], left_out: Sequence[Span]
) -> dict[int, tuple[int, int]]:
    """(5-minute slots with a reading, slots expected) per key; slots of the grid anchored at
    each interval's origin that touch a left-out span count as neither."""
    rows = await conn.fetch(
        """WITH c AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[],
                                          $4::timestamptz[], $5::timestamptz[])
                      AS c(k, device_id, t0, t1, origin)),
            w AS (SELECT * FROM unnest($6::text[], $7::timestamptz[], $8::timestamptz[])
                  AS w(device_id, w0, w1)),
            maint AS (
                SELECT DISTINCT c.k, c.device_id, c.t0, b AS bucket
                FROM c JOIN w ON w.device_id = c.device_id AND w.w1 > c.t0 AND w.w0 < c.t1
                CROSS JOIN LATERAL generate_series(
                    date_bin('5 minutes', greatest(w.w0, c.t0), c.origin),
                    least(w.w1, c.t1) - interval '1 microsecond', interval '5 minutes') AS b
            ),
            -- per device (LATERAL) so each count is a small in-memory sort over an index range
            seen AS (
                SELECT c.k, c.device_id, c.t0, x.up FROM c CROSS JOIN LATERAL (
                    SELECT count(DISTINCT date_bin('5 minutes', tl.ts, c.origin)) AS up
                    FROM telemetry tl
                    WHERE tl.device_id = c.device_id AND tl.ts >= c.t0 AND tl.ts < c.t1
                      AND NOT EXISTS (
                        SELECT 1 FROM w WHERE w.device_id = c.device_id
                          AND w.w0 < date_bin('5 minutes', tl.ts, c.origin) + interval '5 minutes'
                          AND w.w1 > date_bin('5 minutes', tl.ts, c.origin))) x
            ),
            expected AS (
                SELECT c.k, c.device_id, c.t0,
                       (extract(epoch FROM c.t1 - c.t0) / 300)::bigint
                       - (SELECT count(*) FROM maint m WHERE m.k = c.k
                            AND m.device_id = c.device_id AND m.t0 = c.t0) AS n
                FROM c
            )
            SELECT x.k, sum(coalesce(seen.up, 0))::bigint AS up, sum(x.n)::bigint AS n
            FROM expected x LEFT JOIN seen USING (k, device_id, t0)
            GROUP BY x.k""",
        *_columns(intervals, 5),
        *_columns(left_out, 3),
    )
    return {r["k"]: (r["up"], r["n"]) for r in rows}
