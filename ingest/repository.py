"""Ingest SQL: bulk, idempotent writes. Never commits: the service's transaction does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from ingest.models import EventRow, ReadingRow, Reject
from servitize.db import Connection

# Readings go through a per-connection temporary staging table: COPY encodes rows with half
# the client CPU of unnest() arrays (measured: 5.5 ms vs 11-21 ms per 5,000 rows), and the
# INSERT ... SELECT keeps ON CONFLICT DO NOTHING for idempotency.
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS telemetry_stage (
    device_id text, metric text, ts timestamptz, value float8, seq int8, flags int2
) ON COMMIT DELETE ROWS
"""
_FROM_STAGE = """
INSERT INTO telemetry (device_id, metric, ts, value, seq, flags)
SELECT device_id, metric, ts, value, seq, flags FROM telemetry_stage
ON CONFLICT DO NOTHING
"""

_INSERT_EVENTS = """
WITH ins AS (
    INSERT INTO device_events (device_id, ts, type, code, severity, attrs)
    SELECT d, t, ty, c, s, a::jsonb
    FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[])
         AS u(d, t, ty, c, s, a)
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins
"""


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


async def insert_readings(conn: Connection, rows: Sequence[ReadingRow]) -> int:
    """Insert readings, skipping ones already stored; returns how many were new."""
    if not rows:
        return 0
    await conn.execute(_STAGE)
    await conn.copy_records_to_table("telemetry_stage", records=rows)
    status = await conn.execute(_FROM_STAGE)
    return int(status.split()[-1])


async def insert_events(conn: Connection, rows: Sequence[EventRow]) -> int:
    """Insert device events, skipping ones already stored; returns how many were new."""
    if not rows:
        return 0
    inserted: int = await conn.fetchval(_INSERT_EVENTS, *_columns(rows, 6))
    return inserted


async def insert_rejects(conn: Connection, rejects: Sequence[Reject]) -> None:
    """Record what was rejected and why."""
    if not rejects:
        return
    await conn.execute(
        """INSERT INTO ingest_rejects (device_id, topic, reason, detail, payload, payload_bytes)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::int4[])""",
        [r.device_id for r in rejects],
        [r.topic for r in rejects],
        [r.reason.value for r in rejects],
        [r.detail for r in rejects],
        # NUL bytes cannot be stored in text columns
        [r.payload.replace("\x00", "\\0") for r in rejects],
        [r.payload_bytes for r in rejects],
    )


async def touch_devices(conn: Connection, last_ts: Mapping[str, datetime]) -> None:
    """Update last seen (server time) and newest device timestamp of these devices (the
    caller passes registered ones only)."""
    ids = sorted(last_ts)  # one lock order for every ingest process: no deadlocks
    await conn.execute(
        """INSERT INTO device_status (device_id, last_seen_at, last_reading_ts)
           SELECT u.d, now(), u.t FROM unnest($1::text[], $2::timestamptz[]) AS u(d, t)
           ON CONFLICT (device_id) DO UPDATE SET last_seen_at = now(), last_reading_ts =
               greatest(device_status.last_reading_ts, EXCLUDED.last_reading_ts)""",
        ids,
        [last_ts[i] for i in ids],
    )


async def set_status(conn: Connection, device_id: str, online: bool, known: bool) -> None:
    """Record online/offline from the status topic (for a registered device: known) and tell
    listeners."""
    await conn.execute(
        """INSERT INTO device_status (device_id, online, status_changed_at)
           SELECT $1, $2, now() WHERE $3
           ON CONFLICT (device_id) DO UPDATE SET online = $2, status_changed_at = now()
           WHERE device_status.online IS DISTINCT FROM $2""",
        device_id,
        online,
        known,
    )
    await conn.execute("SELECT pg_notify('servitize_status', $1)", device_id)


async def record_batch(
    conn: Connection,
    device_ids: Sequence[str],
    span: tuple[datetime, datetime] | None,
    readings: int,
    events: int,
) -> int:
    """Log the committed batch for detectors and rollups, and wake them."""
    batch_id: int = await conn.fetchval(
        """INSERT INTO ingest_batches (device_ids, min_ts, max_ts, readings, events)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        list(device_ids),
        span[0] if span else None,
        span[1] if span else None,
        readings,
        events,
    )
    await conn.execute("SELECT pg_notify('servitize_ingest', $1)", str(batch_id))
    return batch_id


async def add_counters(conn: Connection, instance: str, deltas: Mapping[str, int]) -> None:
    """Add to this instance's monotonic counters."""
    names = sorted(n for n, v in deltas.items() if v)
    if not names:
        return
    await conn.execute(
        """INSERT INTO ingest_counters (instance, name, value)
           SELECT $1, n, v FROM unnest($2::text[], $3::int8[]) AS u(n, v)
           ON CONFLICT (instance, name) DO UPDATE
           SET value = ingest_counters.value + EXCLUDED.value""",
        instance,
        names,
        [deltas[n] for n in names],
    )


async def counters(conn: Connection) -> dict[str, int]:
    """Counters summed over every ingest instance."""
    rows = await conn.fetch("SELECT name, sum(value)::int8 AS v FROM ingest_counters GROUP BY name")
    return {r["name"]: r["v"] for r in rows}


async def reachable_devices(conn: Connection, device_ids: list[str]) -> list[str]:
    """Of these devices, those connected now: heard recently, or status online since."""
    rows = await conn.fetch(
        """SELECT device_id FROM device_presence WHERE device_id = ANY($1)
           AND (presence = 'online' OR (reported_online AND presence <> 'offline'))""",
        device_ids,
    )
    return [r["device_id"] for r in rows]
