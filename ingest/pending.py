"""The rollup feed: committed ingest batches whose time ranges are not rolled up yet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingest.spans import Window
from servitize.db import Connection

# Batches per pass: bounds one pass's memory and transaction after a long outage or upgrade.
PASS_BATCHES = 20_000


@dataclass(frozen=True, slots=True)
class Pending:
    """One committed batch whose time range is not rolled up yet."""

    id: int
    device_ids: list[str]
    span: Window


async def pending_batches(conn: Connection, limit: int = PASS_BATCHES) -> list[Pending]:
    """The oldest batches not yet rolled up."""
    rows = await conn.fetch(
        """SELECT id, device_ids, min_ts, max_ts FROM ingest_batches
           WHERE NOT rolled_up AND min_ts IS NOT NULL ORDER BY id LIMIT $1""",
        limit,
    )
    return [Pending(r["id"], r["device_ids"], (r["min_ts"], r["max_ts"])) for r in rows]


async def mark_rolled_up(conn: Connection, batches: Sequence[Pending]) -> None:
    """Record that these batches' ranges are in the rollups."""
    await conn.execute(
        "UPDATE ingest_batches SET rolled_up = true WHERE id = ANY($1::int8[])",
        [b.id for b in batches],
    )
