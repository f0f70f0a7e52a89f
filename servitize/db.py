"""Database access shared by every domain: pools, codecs and the transaction helper."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from servitize.settings import Settings

if TYPE_CHECKING:
    # A plain connection or one borrowed from a pool: repositories accept either.
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
else:  # asyncpg's classes are generic only in its stubs
    Connection = asyncpg.Connection | PoolConnectionProxy
    Pool = asyncpg.Pool


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says what to do."""


def database_url(settings: Settings) -> str:
    """The configured database URL, or a clear error saying how to get one."""
    if not settings.database_url:
        raise ConfigError(
            "SERVITIZE_DATABASE_URL is not set. Point it at PostgreSQL/TimescaleDB, "
            "or run `servitize demo`, which starts an embedded PostgreSQL."
        )
    return settings.database_url


async def _init_connection(conn: Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def connect(url: str) -> asyncpg.Connection[asyncpg.Record]:
    """One connection with the project's codecs."""
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(url)
    await _init_connection(conn)
    return conn


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> Pool:
    """A connection pool with the project's codecs."""
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[Connection]:
    """Acquire a connection and run the block in one transaction (the service's unit of work)."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn


def record_to_dict(record: asyncpg.Record | None) -> dict[str, Any] | None:
    """Turn a row into a plain dict (None stays None)."""
    return dict(record) if record is not None else None
