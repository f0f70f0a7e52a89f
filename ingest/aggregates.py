"""TimescaleDB path: refresh the continuous aggregates over exactly what batches touched.

`refresh_continuous_aggregate` recomputes the buckets of a window from raw rows (below the
aggregate's invalidation threshold only the invalidated ones, so a wide window is cheap when
little in it changed) and moves the watermark. It cannot run inside a transaction block, so a
pass holds a session advisory lock instead, refreshes each aggregate over the merged windows of
the pending batches, and only then marks those batches rolled up: a pass that fails half-way
leaves them pending and the next pass does them again (refreshing is idempotent).
A window may end after now (readings stamped a little ahead): TimescaleDB then stops it at
the end of the bucket holding the newest row, so those readings are materialized too (seen
on 2.28.3).
"""

from __future__ import annotations

import logging

from ingest.pending import Pending, mark_rolled_up, pending_batches
from ingest.spans import Window, bucket_windows
from servitize.db import Connection, Pool

log = logging.getLogger(__name__)

AGGREGATES = (("telemetry_1m", "1m"), ("telemetry_1h", "1h"))


def refresh_plan(batches: list[Pending]) -> list[tuple[str, Window]]:
    """(aggregate, window) refreshes that cover every pending batch's range."""
    spans = [b.span for b in batches]
    return [(view, w) for view, width in AGGREGATES for w in bucket_windows(spans, width)]


async def refresh(conn: Connection, plan: list[tuple[str, Window]]) -> None:
    """Run the refreshes (each commits on its own; the connection must be outside a block)."""
    for view, (lo, hi) in plan:
        await conn.execute(
            f"CALL refresh_continuous_aggregate('{view}', $1::timestamptz, $2::timestamptz)", lo, hi
        )


async def refresh_pass(pool: Pool, lock_key: int) -> int:
    """One pass: refresh what pending batches touched, then mark them; returns batches done."""
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key):
            return 0
        try:
            batches = await pending_batches(conn)
            if not batches:
                return 0
            plan = refresh_plan(batches)
            await refresh(conn, plan)
            await mark_rolled_up(conn, batches)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)
    log.info(
        "upkeep: %d batches refreshed into the aggregates (%d windows)", len(batches), len(plan)
    )
    return len(batches)
