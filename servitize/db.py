"""Database access shared by every domain: pools, codecs and the transaction helper."""

from __future__ import annotations

import json
import re
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


class DatabaseUnreachable(ConfigError):
    """The configured database cannot be reached or refuses us; the message says what to do."""


# What a wrong URL, a stopped server, bad credentials or a missing database raise.
_CONNECT_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError)


def _unreachable(url: str, exc: BaseException) -> DatabaseUnreachable:
    cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return DatabaseUnreachable(
        f"cannot use the database at {redact(url)}: {cause}. Check SERVITIZE_DATABASE_URL "
        "(postgresql://user:password@host:port/database) and that PostgreSQL runs there."
    )


def redact(url: str) -> str:
    """The URL with its password replaced by ***."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


async def _init_connection(conn: Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def connect(url: str) -> asyncpg.Connection[asyncpg.Record]:
    """One connection with the project's codecs; DatabaseUnreachable if it cannot be had."""
    try:
        conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(url)
    except _CONNECT_ERRORS as exc:
        raise _unreachable(url, exc) from exc
    await _init_connection(conn)
    return conn


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> Pool:
    """A connection pool with the project's codecs; DatabaseUnreachable if it cannot open."""
    try:
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, init=_init_connection
        )
    except _CONNECT_ERRORS as exc:
        raise _unreachable(url, exc) from exc
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
