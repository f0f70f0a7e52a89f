"""SQL of campaigns and per-device updates (never commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from servitize.db import Connection

_FINISHED = "('UPDATED', 'FAILED', 'ROLLED_BACK', 'CANCELED')"
_FAILED = "('FAILED', 'ROLLED_BACK')"


async def insert(conn: Connection, c: dict[str, Any]) -> Any:
    """A new RUNNING campaign."""
    cols = list(c)
    marks = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    sql = f"INSERT INTO fleet_campaigns ({', '.join(cols)}) VALUES ({marks}) RETURNING *"
    return await conn.fetchrow(sql, *c.values())


async def insert_updates(conn: Connection, campaign_id: str, rows: list[tuple[Any, ...]]) -> None:
    """The campaign's devices: (device_id, tenant_id, stage, from_version)."""
    await conn.executemany(
        """INSERT INTO fleet_updates (campaign_id, device_id, tenant_id, stage, from_version)
           VALUES ($1, $2, $3, $4, $5)""",
        [(campaign_id, *r) for r in rows],
    )


async def get(conn: Connection, campaign_id: str, *, lock: bool = False) -> Any:
    """One campaign."""
    sql = "SELECT * FROM fleet_campaigns WHERE id = $1" + (" FOR UPDATE" if lock else "")
    return await conn.fetchrow(sql, campaign_id)


async def list_campaigns(conn: Connection, tenant_id: str | None) -> list[Any]:
    """Campaigns newest first; a tenant sees those touching its devices."""
    return await conn.fetch(
        """SELECT * FROM fleet_campaigns c WHERE $1::text IS NULL OR c.tenant_id = $1
              OR EXISTS (SELECT 1 FROM fleet_updates u WHERE u.campaign_id = c.id
                         AND u.tenant_id = $1)
           ORDER BY created_at DESC, id""",
        tenant_id,
    )


async def running(conn: Connection) -> list[str]:
    """Ids of running campaigns."""
    rows = await conn.fetch("SELECT id FROM fleet_campaigns WHERE state = 'RUNNING' ORDER BY id")
    return [r["id"] for r in rows]


async def set_campaign(conn: Connection, campaign_id: str, **columns: Any) -> None:
    """Update campaign columns."""
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(columns, start=2))
    await conn.execute(
        f"UPDATE fleet_campaigns SET {sets}, updated_at = now() WHERE id = $1",
        campaign_id, *columns.values(),
    )  # fmt: skip


async def updates(conn: Connection, campaign_id: str, tenant_id: str | None) -> list[Any]:
    """The campaign's device updates (a tenant sees its own)."""
    return await conn.fetch(
        """SELECT * FROM fleet_updates WHERE campaign_id = $1
             AND ($2::text IS NULL OR tenant_id = $2) ORDER BY stage, device_id""",
        campaign_id, tenant_id,
    )  # fmt: skip


async def get_update(conn: Connection, campaign_id: str, device_id: str) -> Any:
    """One device's update, locked."""
    return await conn.fetchrow(
        "SELECT * FROM fleet_updates WHERE campaign_id = $1 AND device_id = $2 FOR UPDATE",
        campaign_id, device_id,
    )  # fmt: skip


async def set_update(conn: Connection, campaign_id: str, device_id: str, **columns: Any) -> None:
    """Update one device's update row."""
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(columns, start=3))
    await conn.execute(
        f"""UPDATE fleet_updates SET {sets}, updated_at = now()
            WHERE campaign_id = $1 AND device_id = $2""",
        campaign_id, device_id, *columns.values(),
    )  # fmt: skip


async def progress(conn: Connection, campaign_id: str, stage: int, since: datetime) -> Any:
    """Counts the rollout gate needs."""
    return await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE stage = $2) AS stage_assigned,
                   count(*) FILTER (WHERE stage = $2 AND state <> 'QUEUED') AS stage_started,
                   count(*) FILTER (WHERE stage = $2 AND state = 'UPDATED') AS stage_succeeded,
                   count(*) FILTER (WHERE stage = $2 AND state IN {_FAILED}) AS stage_failed,
                   count(*) FILTER (WHERE state IN {_FINISHED}) AS finished,
                   count(*) FILTER (WHERE state IN {_FAILED}) AS failed,
                   count(*) FILTER (WHERE started_at >= $3) AS started_last_minute
            FROM fleet_updates WHERE campaign_id = $1""",
        campaign_id, stage, since,
    )  # fmt: skip


async def startable(conn: Connection, campaign_id: str, stage: int) -> list[Any]:
    """Queued updates of the stages opened so far, in stage and device order."""
    return await conn.fetch(
        """SELECT * FROM fleet_updates WHERE campaign_id = $1 AND stage <= $2
             AND state = 'QUEUED' ORDER BY stage, device_id FOR UPDATE""",
        campaign_id, stage,
    )  # fmt: skip


async def overdue(conn: Connection, campaign_id: str, now: datetime) -> list[Any]:
    """Updates in progress past their deadline (a silent device)."""
    return await conn.fetch(
        f"""SELECT * FROM fleet_updates WHERE campaign_id = $1 AND deadline <= $2
              AND state NOT IN {_FINISHED} AND state <> 'QUEUED' FOR UPDATE""",
        campaign_id, now,
    )  # fmt: skip


async def cancel_queued(conn: Connection, campaign_id: str) -> list[Any]:
    """Cancel every update that has not started."""
    return await conn.fetch(
        """UPDATE fleet_updates SET state = 'CANCELED', updated_at = now(), reason = 'campaign'
           WHERE campaign_id = $1 AND state = 'QUEUED' RETURNING *""",
        campaign_id,
    )


async def active_update(conn: Connection, device_id: str, campaign_id: str) -> Any:
    """The device's unfinished update in a campaign, with its package."""
    return await conn.fetchrow(
        f"""SELECT u.*, c.package_id FROM fleet_updates u
            JOIN fleet_campaigns c ON c.id = u.campaign_id
            WHERE u.device_id = $1 AND u.campaign_id = $2 AND u.state NOT IN {_FINISHED}""",
        device_id, campaign_id,
    )  # fmt: skip
