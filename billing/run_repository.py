"""Billing run SQL: the record of each run with the tenants it could not bill. Never commits."""

from __future__ import annotations

from servitize.db import Connection


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
