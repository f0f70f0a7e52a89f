"""SQL of device twins (never commits)."""

from __future__ import annotations

from typing import Any

from servitize.db import Connection


async def create(conn: Connection, device_id: str, tenant_id: str) -> None:
    """An empty twin for a device (no-op when it exists)."""
    await conn.execute(
        "INSERT INTO fleet_twins (device_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        device_id, tenant_id,
    )  # fmt: skip


async def get(conn: Connection, device_id: str, *, lock: bool = False) -> Any:
    """A device's twin row (None: none yet)."""
    sql = "SELECT * FROM fleet_twins WHERE device_id = $1" + (" FOR UPDATE" if lock else "")
    return await conn.fetchrow(sql, device_id)


async def set_desired(conn: Connection, device_id: str, desired: dict[str, Any]) -> Any:
    """Store a new desired document with the next version."""
    return await conn.fetchrow(
        """UPDATE fleet_twins SET desired = $2, desired_version = desired_version + 1,
                                  updated_at = now()
           WHERE device_id = $1 RETURNING *""",
        device_id, desired,
    )  # fmt: skip


async def set_reported(conn: Connection, device_id: str, version: int, doc: dict[str, Any]) -> Any:
    """Store what the device reports it applied."""
    return await conn.fetchrow(
        """UPDATE fleet_twins SET reported = $3, reported_version = $2, updated_at = now()
           WHERE device_id = $1 RETURNING *""",
        device_id, version, doc,
    )  # fmt: skip


async def unpublished(conn: Connection, limit: int) -> list[Any]:
    """Twins whose desired version has not been published yet, locked."""
    return await conn.fetch(
        """SELECT * FROM fleet_twins WHERE published_version <> desired_version
           ORDER BY updated_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )


async def mark_published(conn: Connection, device_id: str, version: int) -> None:
    """Remember the desired version whose delta is now retained at the broker."""
    await conn.execute(
        "UPDATE fleet_twins SET published_version = $2 WHERE device_id = $1", device_id, version
    )


async def versions_of(conn: Connection, device_ids: list[str], key: str) -> dict[str, Any]:
    """One reported setting (for example firmware_version) of several devices."""
    rows = await conn.fetch(
        "SELECT device_id, reported ->> $2 AS v FROM fleet_twins WHERE device_id = ANY($1)",
        device_ids, key,
    )  # fmt: skip
    return {r["device_id"]: r["v"] for r in rows}
