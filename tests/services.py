"""Real PostgreSQL and MQTT broker for tests: use what runs locally, otherwise embed one."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
import pytest

from servitize import db, migrate
from servitize.infra import BrokerProcess, local_server_url, start_broker, with_database
from servitize.settings import Settings

WORK = Path(__file__).resolve().parent.parent / ".servitize" / "test"


def server_url() -> str:
    """A PostgreSQL server to create test databases on."""
    return local_server_url(os.environ.get("SERVITIZE_TEST_DATABASE_URL"), WORK)


async def create_database(server: str, *, template: str | None = None, prefix: str = "t") -> str:
    """Create an empty (or templated) database and return its URL."""
    name = f"servitize_{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(server)
    try:
        tpl = f" TEMPLATE {template}" if template else ""
        await conn.execute(f"CREATE DATABASE {name}{tpl}")
    finally:
        await conn.close()
    return with_database(server, name)


async def drop_database(server: str, url: str) -> None:
    """Drop a test database, disconnecting whoever still uses it."""
    name = url.partition("?")[0].rsplit("/", 1)[1]
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


async def migrated_database(server: str, settings: Settings | None = None) -> str:
    """A new database with every migration applied."""
    url = await create_database(server, prefix="m")
    conn = await db.connect(url)
    try:
        await migrate.migrate(conn, settings or Settings(database_url=url))
    finally:
        await conn.close()
    return url


# Which broker the run started: amqtt (the fallback without Mosquitto) has no shared
# subscriptions, so tests that rely on them skip there.
BROKER_KIND = {"kind": "none"}


def broker() -> BrokerProcess:
    """A private broker for this test run (Mosquitto if installed, else amqtt)."""
    proc = start_broker(WORK, kind=os.environ.get("SERVITIZE_TEST_BROKER", "auto"))
    BROKER_KIND["kind"] = proc.kind
    return proc


def shared_subscriptions() -> bool:
    """Whether the test broker deals $share groups."""
    return BROKER_KIND["kind"] == "mosquitto"


def require_mosquitto(why: str) -> None:
    """Skip the calling test on the amqtt fallback broker (used where Mosquitto is missing)."""
    if BROKER_KIND["kind"] != "mosquitto":
        pytest.skip(f"needs Mosquitto: the amqtt fallback broker {why}")
