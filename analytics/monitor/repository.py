"""SQL of the detect runtime's own tables: checkpoints, learnt series limits, trained models,
and the partition lease (a PostgreSQL advisory lock). Never commits: callers own the
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from servitize.db import Connection

# The advisory lock space of `servitize detect` partitions (first key of the two-key form).
LEASE_SPACE = "servitize-detect"


async def checkpoint(conn: Connection, partition: str) -> asyncpg.Record | None:
    """A partition's stored high-water mark and gaps, if it has one."""
    return await conn.fetchrow(
        "SELECT last_id, gaps FROM detector_checkpoints WHERE partition = $1", partition
    )


async def save_checkpoint(conn: Connection, partition: str, last_id: int, gaps: list[int]) -> None:
    """Store a partition's position (in the same transaction as the alerts it led to)."""
    await conn.execute(
        "INSERT INTO detector_checkpoints (partition, last_id, gaps) VALUES ($1, $2, $3) "
        "ON CONFLICT (partition) DO UPDATE SET last_id = $2, gaps = $3, updated_at = now()",
        partition,
        last_id,
        gaps,
    )


async def series_limits(conn: Connection, devices: list[str]) -> list[asyncpg.Record]:
    """Learnt limits (device_id, metric, limits) of these devices' series."""
    return await conn.fetch(
        "SELECT device_id, metric, limits FROM detector_series_state WHERE device_id = ANY($1)",
        devices,
    )


async def save_series_limits(conn: Connection, rows: Sequence[tuple[str, str, Any]]) -> None:
    """Insert or replace learnt limits (device_id, metric, limits)."""
    await conn.executemany(
        "INSERT INTO detector_series_state (device_id, metric, limits) "
        "VALUES ($1, $2, $3) ON CONFLICT (device_id, metric) DO UPDATE SET "
        "limits = EXCLUDED.limits, updated_at = now()",
        rows,
    )


async def next_model_version(conn: Connection, device_type: str) -> int:
    """The version number a newly trained model of this type gets."""
    version: int = await conn.fetchval(
        "SELECT coalesce(max(version), 0) + 1 FROM analytics_models WHERE device_type_id = $1",
        device_type,
    )
    return version


async def insert_active_model(
    conn: Connection, device_type: str, version: int, fields: dict[str, Any]
) -> None:
    """Store a model as the type's only active one (fields: trained_from, trained_to,
    samples, params, blob)."""
    await conn.execute(
        "UPDATE analytics_models SET active = false WHERE device_type_id = $1", device_type
    )
    await conn.execute(
        "INSERT INTO analytics_models (device_type_id, version, kind, trained_from, trained_to, "
        "samples, params, blob) VALUES ($1, $2, 'isolation_forest', $3, $4, $5, $6, $7)",
        device_type,
        version,
        fields["trained_from"],
        fields["trained_to"],
        fields["samples"],
        fields["params"],
        fields["blob"],
    )


async def active_model_blobs(conn: Connection) -> list[asyncpg.Record]:
    """(device_type_id, blob) of every active model."""
    return await conn.fetch("SELECT device_type_id, blob FROM analytics_models WHERE active")


async def try_lease(conn: Connection, partition: str) -> bool:
    """Take the partition's advisory lock for this session, if nobody holds it."""
    got: bool = await conn.fetchval(
        "SELECT pg_try_advisory_lock(hashtext($1), hashtext($2))", LEASE_SPACE, partition
    )
    return got


async def release_lease(conn: Connection, partition: str) -> None:
    """Give the partition's advisory lock back (closing the session does it too)."""
    await conn.execute(
        "SELECT pg_advisory_unlock(hashtext($1), hashtext($2))", LEASE_SPACE, partition
    )


async def lease_holder(conn: Connection, partition: str) -> int | None:
    """The backend pid that holds the partition's lease, if any."""
    pid: int | None = await conn.fetchval(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND classid = hashtext($1)::oid AND objid = hashtext($2)::oid AND objsubid = 2",
        LEASE_SPACE,
        partition,
    )
    return pid


async def session_pid(conn: Connection) -> int:
    """This session's backend pid."""
    pid: int = await conn.fetchval("SELECT pg_backend_pid()")
    return pid


async def keep_alive(conn: Connection, idle_s: int, interval_s: int, count: int) -> None:
    """Server-side TCP keepalives, so a lease held by a vanished host is freed in time."""
    await conn.execute(
        f"SET tcp_keepalives_idle = {int(idle_s)}; SET tcp_keepalives_interval = "
        f"{int(interval_s)}; SET tcp_keepalives_count = {int(count)}"
    )
