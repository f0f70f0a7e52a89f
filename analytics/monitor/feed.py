"""The ingest feed as a detector partition reads it: batches after a stored checkpoint.

Batch ids come from a sequence, so a batch with a lower id can commit after one with a higher
id. Ids skipped below the high-water mark are kept as gaps and read again until they appear,
or until `gap_timeout_s` passes (a rolled-back transaction used the id and never will).
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import numpy as np

from analytics.monitor import repository as repo
from ingest import service as ingest
from servitize.db import Connection

# An ingest transaction lasts well under a second; a minute is far past any commit delay.
GAP_TIMEOUT_S = 60.0


def in_partition(device_id: str, partition: tuple[int, int]) -> bool:
    """Stable assignment of a device to one of N detector processes (CRC-32 of its id)."""
    index, count = partition
    return zlib.crc32(device_id.encode()) % count == index


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """One committed ingest transaction."""

    id: int
    device_ids: list[str]
    min_ts: datetime | None
    max_ts: datetime | None
    ingested_at: datetime


@dataclass(slots=True)
class Cursor:
    """A partition's position in the feed: high-water mark and pending gaps."""

    name: str
    last_id: int = 0
    gaps: dict[int, float] = field(default_factory=dict)
    gap_timeout_s: float = GAP_TIMEOUT_S

    async def load(self, conn: Connection) -> None:
        """Read the stored checkpoint (a fresh partition starts after the newest batch)."""
        row = await repo.checkpoint(conn, self.name)
        if row is None:
            self.last_id = await ingest.newest_batch_id(conn)
            await self.save(conn)
            return
        self.last_id = int(row["last_id"])
        now = time.monotonic()
        self.gaps = {int(g): now for g in row["gaps"]}

    async def save(self, conn: Connection) -> None:
        """Store the checkpoint (in the same transaction as the alerts it led to)."""
        await repo.save_checkpoint(conn, self.name, self.last_id, sorted(self.gaps))

    async def poll(self, conn: Connection, limit: int = 200) -> list[Batch]:
        """Batches after the high-water mark plus gaps that have appeared, in id order."""
        rows = await ingest.batches_after(conn, self.last_id, list(self.gaps), limit)
        return [
            Batch(
                id=r["id"],
                device_ids=list(r["device_ids"]),
                min_ts=r["min_ts"],
                max_ts=r["max_ts"],
                ingested_at=r["ingested_at"],
            )
            for r in rows
        ]

    def advance(self, batches: list[Batch]) -> None:
        """Move past these batches, remembering skipped ids as gaps and expiring old gaps."""
        now = time.monotonic()
        seen = {b.id for b in batches}
        for b in batches:
            self.gaps.pop(b.id, None)
        top = max((b.id for b in batches), default=self.last_id)
        for missing in range(self.last_id + 1, top):
            if missing not in seen:
                self.gaps.setdefault(missing, now)
        self.last_id = max(self.last_id, top)
        self.gaps = {g: t for g, t in self.gaps.items() if now - t < self.gap_timeout_s}


async def batch_readings(
    conn: Connection, batch: Batch, devices: list[str]
) -> list[asyncpg.Record]:
    """The telemetry rows of one batch for some devices, ordered by device, metric, time."""
    return await ingest.batch_readings(conn, devices, batch.min_ts, batch.max_ts, batch.ingested_at)


async def batch_events(conn: Connection, batch: Batch, devices: list[str]) -> list[asyncpg.Record]:
    """The device events of one batch for some devices, in time order."""
    return await ingest.batch_events(conn, devices, batch.min_ts, batch.max_ts, batch.ingested_at)


Series = dict[str, tuple[np.ndarray, np.ndarray]]


def group_readings(rows: list[Any]) -> dict[str, Series]:
    """Rows grouped per device, then per metric, as (times, values) arrays."""
    lists: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for r in rows:
        ts, vs = lists.setdefault(r["device_id"], {}).setdefault(r["metric"], ([], []))
        ts.append(r["t"])
        vs.append(r["value"])
    return {
        device: {m: (np.array(ts), np.array(vs)) for m, (ts, vs) in metrics.items()}
        for device, metrics in lists.items()
    }
