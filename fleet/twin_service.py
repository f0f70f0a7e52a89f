"""Twin use cases: read, update desired (If-Match), apply reports, publish deltas."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fleet import repository as events
from fleet import twin_repository as repo
from fleet.service import NotFound
from fleet.topics import delta_topic
from fleet.twin import check_if_match, check_report, delta, merge
from registry import service as registry
from servitize.db import Pool, transaction

Publish = Callable[[str, bytes], Awaitable[None]]


def view(row: Any) -> dict[str, Any]:
    """A twin as the API shows it."""
    out = {k: row[k] for k in ("device_id", "desired", "desired_version", "reported")}
    out |= {"reported_version": row["reported_version"], "updated_at": row["updated_at"]}
    return out | {"delta": delta(row["desired"], row["reported"])}


async def _visible(conn: Any, device_id: str, tenant_id: str | None, lock: bool = False) -> Any:
    row = await repo.get(conn, device_id, lock=lock)
    if row is None:  # created empty on first use, for a registered device
        placed = await registry.device_placements(conn, [device_id])
        if placed:
            await repo.create(conn, device_id, placed[0][1])
            row = await repo.get(conn, device_id, lock=lock)
    if row is None or (tenant_id is not None and row["tenant_id"] != tenant_id):
        raise NotFound(f"device {device_id} not found")
    return row


async def get(pool: Pool, device_id: str, tenant_id: str | None) -> dict[str, Any]:
    """The twin of a device the caller may see."""
    async with transaction(pool) as conn:
        return view(await _visible(conn, device_id, tenant_id))


async def update_desired(
    pool: Pool, device_id: str, tenant_id: str | None, patch: dict[str, Any],
    if_match: int | None, actor: str,
) -> dict[str, Any]:  # fmt: skip
    """Merge a patch into desired; VersionConflict when if_match is not the current version."""
    async with transaction(pool) as conn:
        row = await _visible(conn, device_id, tenant_id, lock=True)
        check_if_match(row["desired_version"], if_match)
        new = await repo.set_desired(conn, device_id, merge(row["desired"], patch))
        subject = {"id": device_id, "tenant_id": new["tenant_id"], "device_id": device_id}
        version = str(new["desired_version"])
        await events.insert_event(conn, "twin", subject, None, version, actor, patch=patch)
    return view(new)


async def apply_report(pool: Pool, device_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Store a device's report; VersionConflict for a stale (or impossible) version."""
    version, reported = body.get("version"), body.get("reported")
    if not isinstance(version, int) or not isinstance(reported, dict):
        raise ValueError("a twin report needs an integer version and a reported object")
    async with transaction(pool) as conn:
        row = await _visible(conn, device_id, None, lock=True)
        check_report(row["desired_version"], row["reported_version"], version)
        return view(await repo.set_reported(conn, device_id, version, reported))


async def publish_deltas(pool: Pool, publish: Publish, limit: int = 200) -> int:
    """Publish (retained) the delta of every twin with an unpublished desired version."""
    async with transaction(pool) as conn:
        rows = await repo.unpublished(conn, limit)
        for row in rows:
            body = {"version": row["desired_version"], "delta": view(row)["delta"]}
            await publish(delta_topic(row["device_id"]), json.dumps(body).encode())
            await repo.mark_published(conn, row["device_id"], row["desired_version"])
    return len(rows)


async def reported_values(pool: Pool, device_ids: list[str], key: str) -> dict[str, Any]:
    """One reported setting of several devices (for example their firmware version)."""
    async with pool.acquire() as conn:
        return await repo.versions_of(conn, device_ids, key)
