"""Versioned SQL migrations: NNNN_name.sql plus optional per-storage-path variants.

A migration is its common file (if any) followed by the variant for the active storage path.
Number ranges keep domains apart: 0001-0099 registry and telemetry, 0100-0199 analytics,
0200-0299 billing, 0300-0399 api, 0400-0499 fleet, 0500-0599 field service, 0600-0699 console.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from importlib import resources

from servitize.db import Connection
from servitize.settings import Settings
from servitize.storage import StoragePath, choose_path

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(timescaledb|postgresql))?\.sql$")
# Any constant works; it only has to be the same for every `servitize migrate` process.
_LOCK_KEY = 0x5E7_1717E


class NotMigratedError(RuntimeError):
    """The database schema is older than the code; the message says what to run."""


@dataclass(frozen=True)
class Migration:
    """One schema version and the SQL that brings the database to it."""

    version: int
    name: str
    common: str = ""
    variants: dict[str, str] = field(default_factory=dict)

    def sql_for(self, path: StoragePath) -> str:
        """The SQL to run on the given storage path."""
        return self.common + "\n" + self.variants.get(path.value, "")

    def checksum(self, path: StoragePath) -> str:
        """A hash of the SQL, to notice edits to applied migrations."""
        return hashlib.sha256(self.sql_for(path).encode()).hexdigest()[:16]


def load_migrations() -> list[Migration]:
    """All migrations shipped with the code, ordered by version."""
    found: dict[int, dict[str, str]] = {}
    names: dict[int, str] = {}
    for entry in resources.files("servitize.migrations").iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        version, name, variant = int(match[1]), match[2], match[3] or "common"
        if names.setdefault(version, name) != name:
            raise RuntimeError(f"two migrations share version {version:04d}")
        found.setdefault(version, {})[variant] = entry.read_text(encoding="utf-8")
    return [
        Migration(v, names[v], parts.pop("common", ""), parts) for v, parts in sorted(found.items())
    ]


def latest_version() -> int:
    """The schema version this code expects."""
    migrations = load_migrations()
    return migrations[-1].version if migrations else 0


async def _ensure_bookkeeping(conn: Connection) -> None:
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS servitize_meta (
            key text PRIMARY KEY,
            value text NOT NULL
        );
        """
    )


async def _storage_path(conn: Connection, settings: Settings) -> StoragePath:
    recorded = await conn.fetchval("SELECT value FROM servitize_meta WHERE key = 'storage_path'")
    if recorded:
        return StoragePath(recorded)
    path, reason = await choose_path(conn, settings.storage)
    log.info("storage path: %s (%s)", path.value, reason)
    await conn.execute(
        "INSERT INTO servitize_meta (key, value) VALUES ('storage_path', $1), "
        "('storage_reason', $2)",
        path.value,
        reason,
    )
    return path


async def migrate(conn: Connection, settings: Settings) -> list[int]:
    """Apply pending migrations (idempotent, safe to run concurrently); returns what ran."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await _ensure_bookkeeping(conn)
        path = await _storage_path(conn, settings)
        applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        ran = []
        for migration in load_migrations():
            if migration.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql_for(path))
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum(path),
                )
            log.info("applied migration %04d_%s (%s)", migration.version, migration.name, path)
            ran.append(migration.version)
        await apply_policies(conn, path, settings)
        return ran
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def apply_policies(conn: Connection, path: StoragePath, settings: Settings) -> None:
    """Set compression and retention policies from settings (TimescaleDB only)."""
    if path is not StoragePath.TIMESCALE:
        return
    compress = f"{settings.telemetry_compress_after_days} days"
    retain = f"{settings.telemetry_retention_days} days"
    # The aggregates keep their buckets as long as the raw rows are kept (as on the plain
    # path, where the upkeep job deletes expired rollup rows with the raw ones).
    for table in ("telemetry", "device_events", "telemetry_1m", "telemetry_1h"):
        await conn.execute(
            f"SELECT remove_retention_policy('{table}', if_exists => true);"
            f"SELECT add_retention_policy('{table}', INTERVAL '{retain}');"
        )
    await conn.execute(
        "SELECT remove_compression_policy('telemetry', if_exists => true);"
        f"SELECT add_compression_policy('telemetry', INTERVAL '{compress}');"
    )


async def schema_version(conn: Connection) -> int:
    """The newest applied migration, 0 for an empty database."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    version: int | None = await conn.fetchval("SELECT max(version) FROM schema_migrations")
    return version or 0


async def require_migrated(conn: Connection) -> None:
    """Refuse to run on a database older than the code, saying what to run."""
    have, want = await schema_version(conn), latest_version()
    if have < want:
        raise NotMigratedError(
            f"database schema is at version {have}, this code needs {want}: "
            "run `servitize migrate` first"
        )
