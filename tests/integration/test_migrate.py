"""Migrations against a real PostgreSQL."""

from __future__ import annotations

import pytest

from servitize import db, migrate
from servitize.settings import Settings
from servitize.storage import StoragePath, active_path
from tests import services


async def test_migrate_is_idempotent_and_records_plain_path(pg_server: str) -> None:
    url = await services.create_database(pg_server)
    try:
        conn = await db.connect(url)
        settings = Settings(database_url=url, storage="postgresql")
        with pytest.raises(migrate.NotMigratedError, match="servitize migrate"):
            await migrate.require_migrated(conn)
        first = await migrate.migrate(conn, settings)
        second = await migrate.migrate(conn, settings)
        assert first == [m.version for m in migrate.load_migrations()]
        assert second == []
        assert await active_path(conn) is StoragePath.PLAIN
        await migrate.require_migrated(conn)
        await conn.close()
    finally:
        await services.drop_database(pg_server, url)


async def test_cloned_database_has_schema(pool: db.Pool) -> None:
    async with pool.acquire() as conn:
        assert await migrate.schema_version(conn) == migrate.latest_version()
        assert await conn.fetchval("SELECT count(*) FROM telemetry") == 0


@pytest.mark.timescale
async def test_timescale_path_creates_hypertables(timescale_url: str) -> None:
    conn = await db.connect(timescale_url)
    try:
        assert await active_path(conn) is StoragePath.TIMESCALE
        tables = {
            r["hypertable_name"]
            for r in await conn.fetch(
                "SELECT hypertable_name FROM timescaledb_information.hypertables"
            )
        }
        assert {"telemetry", "device_events"} <= tables
        caggs = {
            r["view_name"]
            for r in await conn.fetch(
                "SELECT view_name FROM timescaledb_information.continuous_aggregates"
            )
        }
        assert {"telemetry_1m", "telemetry_1h"} <= caggs
        jobs = {
            r["proc_name"]
            for r in await conn.fetch("SELECT proc_name FROM timescaledb_information.jobs")
        }
        assert {
            "policy_compression",
            "policy_retention",
            "policy_refresh_continuous_aggregate",
        } <= jobs
    finally:
        await conn.close()
