"""Billing run SQL: the tenants a run names, and the record of each run. Never commits."""

from __future__ import annotations

from servitize.db import Connection


async def unknown_tenants(conn: Connection, tenant_ids: list[str]) -> list[str]:
    """The ids among `tenant_ids` that name no tenant."""
    rows = await conn.fetch(
        """SELECT t FROM unnest($1::text[]) t
           WHERE NOT EXISTS (SELECT 1 FROM tenants WHERE id = t) ORDER BY t""",
        tenant_ids,
    )
    return [r["t"] for r in rows]


async def record_run(
    conn: Connection, period: str, drafts: int, failures: list[dict[str, str]]
) -> int:
    """Record a finished billing run with the tenants it could not bill."""
    run_id: int = await conn.fetchval(
        """INSERT INTO billing_runs (period, finished_at, drafts, failures)
           VALUES ($1, now(), $2, $3) RETURNING id""",
        period,
        drafts,
        failures,
    )
    return run_id
