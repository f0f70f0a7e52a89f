"""Shared fixtures: a real PostgreSQL (template-cloned database per test) and a real broker."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from servitize import db
from servitize.settings import Settings
from tests import services


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of the PostgreSQL server the tests create databases on."""
    return services.server_url()


@pytest.fixture(scope="session")
async def template_db(pg_server: str) -> AsyncIterator[str]:
    """A migrated database that per-test databases are cloned from."""
    url = await services.migrated_database(pg_server, Settings(storage="postgresql"))
    # The template must have no open connections when it is cloned.
    yield url.partition("?")[0].rsplit("/", 1)[1]
    await services.drop_database(pg_server, url)


@pytest.fixture
async def db_url(pg_server: str, template_db: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    url = await services.create_database(pg_server, template=template_db)
    yield url
    await services.drop_database(pg_server, url)


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[db.Pool]:
    """A connection pool on the test's own database."""
    p = await db.create_pool(db_url, max_size=5)
    yield p
    await p.close()


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    """A private MQTT broker for the whole run."""
    proc = services.broker()
    yield proc.url
    proc.stop()


@pytest.fixture
async def timescale_url() -> AsyncIterator[str]:
    """A fresh migrated database on the TimescaleDB server named by SERVITIZE_TEST_TIMESCALE_URL."""
    server = os.environ.get("SERVITIZE_TEST_TIMESCALE_URL")
    if not server:
        pytest.skip("SERVITIZE_TEST_TIMESCALE_URL is not set")
    url = await services.migrated_database(server, Settings(storage="timescaledb"))
    yield url
    await services.drop_database(server, url)
