"""Which storage path is active: TimescaleDB when available, plain PostgreSQL otherwise."""

from __future__ import annotations

import logging
from enum import StrEnum

import asyncpg

from servitize.db import Connection

log = logging.getLogger(__name__)


class StoragePath(StrEnum):
    """The two storage paths the schema and queries support."""

    TIMESCALE = "timescaledb"
    PLAIN = "postgresql"


async def timescale_version(conn: Connection) -> str | None:
    """The installed timescaledb extension version in this database, if any."""
    version: str | None = await conn.fetchval(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    )
    return version


async def choose_path(conn: Connection, wanted: str = "auto") -> tuple[StoragePath, str]:
    """Pick the storage path for a new database; returns the path and why."""
    if wanted == StoragePath.PLAIN:
        return StoragePath.PLAIN, "plain PostgreSQL requested by SERVITIZE_STORAGE"
    if await timescale_version(conn):
        return StoragePath.TIMESCALE, "timescaledb extension already installed"
    available = await conn.fetchval(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    preloaded = "timescaledb" in str(await conn.fetchval("SHOW shared_preload_libraries"))
    reason = "timescaledb extension is not available on this server"
    if available and not preloaded:
        # CREATE EXTENSION would end the session with FATAL "must be preloaded".
        reason = "timescaledb is installed but not in shared_preload_libraries"
    elif available:
        try:
            async with conn.transaction():
                await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            return StoragePath.TIMESCALE, "created the timescaledb extension"
        except asyncpg.PostgresError as exc:
            reason = f"timescaledb could not be created ({exc})"
    if wanted == StoragePath.TIMESCALE:
        raise RuntimeError(f"SERVITIZE_STORAGE=timescaledb but {reason}")
    return StoragePath.PLAIN, reason


async def active_path(conn: Connection) -> StoragePath:
    """The path recorded when the database was migrated."""
    value = await conn.fetchval("SELECT value FROM servitize_meta WHERE key = 'storage_path'")
    return StoragePath(value)


def bucket_sql(path: StoragePath, width: str, column: str) -> str:
    """SQL for the start of the bucket that holds `column` (time_bucket or date_bin)."""
    if path is StoragePath.TIMESCALE:
        return f"time_bucket({width}, {column})"
    # date_bin needs an origin; midnight UTC of 2000-01-01 aligns minute/hour/day buckets
    # exactly as time_bucket does.
    return f"date_bin({width}, {column}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
