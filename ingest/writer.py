"""Commit batches: one transaction each, retried while the database is away, nothing lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ingest import repository
from ingest.batch import Batch, Delivery
from ingest.models import EventRow, ReadingRow, Reason, Reject
from registry import service as registry
from servitize.db import Connection, Pool, transaction

log = logging.getLogger(__name__)

# SQLSTATE classes that mean "try again later", not "this data is bad":
# connection exceptions, insufficient resources, operator intervention, rollbacks.
_TRANSIENT_CLASSES = ("08", "53", "57", "40")
# Backoff bounds: quick first retry for blips, at most 10 s between tries for outages.
_FIRST_DELAY_S, _MAX_DELAY_S = 0.1, 10.0


def is_transient(exc: BaseException) -> bool:
    """Whether a database error is worth retrying unchanged."""
    if isinstance(exc, asyncpg.PostgresError) and not isinstance(
        exc, asyncpg.PostgresConnectionError
    ):
        return str(exc.sqlstate or "")[:2] in _TRANSIENT_CLASSES
    return isinstance(
        exc,
        OSError
        | asyncpg.InterfaceError
        | asyncpg.PostgresConnectionError
        | TimeoutError
        | ConnectionError,
    )


@dataclass(frozen=True, slots=True)
class Committed:
    """What one committed batch added."""

    readings: int
    duplicates: int
    events: int
    counts: dict[str, int]


class BatchWriter:
    """Writes batches for one ingest instance."""

    def __init__(self, pool: Pool, instance: str) -> None:
        self.pool, self.instance = pool, instance
        self.retries = 0
        # Batches the database refused as a whole, then stored one message at a time (slow:
        # the validator should have caught what the database refused).
        self.isolated = 0

    async def commit(self, batch: Batch) -> Committed:
        """Store a batch, retrying transient failures forever with backoff."""
        delay = _FIRST_DELAY_S
        while True:
            try:
                return await self._write(batch)
            except Exception as exc:
                if not is_transient(exc):
                    log.error("batch failed on bad data (%s); storing message by message", exc)
                    self.isolated += 1
                    return await self._write_isolated(batch)
                self.retries += 1
                log.warning("database unavailable (%s); retry in %.1f s, nothing acked", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_DELAY_S)

    async def _write(self, batch: Batch) -> Committed:
        readings, events = batch.readings(), batch.events()
        counts = batch.counts()
        async with transaction(self.pool) as conn:
            new = await repository.insert_readings(conn, readings)
            new_events = await repository.insert_events(conn, events)
            await repository.insert_rejects(conn, batch.rejects())
            last, span = device_times(readings, events)
            if span:
                await repository.record_batch(conn, sorted(last), span, len(readings), len(events))
            counts |= {
                "accepted": new,
                "duplicates": len(readings) - new,
                "events_accepted": new_events,
                "events_duplicates": len(events) - new_events,
                "batches": 1,
            }
            await repository.add_counters(conn, self.instance, counts)
            # Row locks on device_status are shared with concurrent writers: take them last,
            # so they are held only for the moment before COMMIT.
            await _touch_status(conn, batch.statuses(), last)
        return Committed(new, len(readings) - new, new_events, counts)

    async def _write_isolated(self, batch: Batch) -> Committed:
        total = Committed(0, 0, 0, {})
        for delivery in batch.deliveries:
            single = Batch()
            single.add(delivery)
            try:
                done = await self._write(single)
            except asyncpg.PostgresError as exc:
                if is_transient(exc):
                    raise
                done = await self._write(_as_storage_error(delivery, exc))
            total = _sum(total, done)
        return total


def device_times(
    readings: Sequence[ReadingRow], events: Sequence[EventRow]
) -> tuple[dict[str, datetime], tuple[datetime, datetime] | None]:
    """In one pass: newest device timestamp per device, and the batch's (earliest, latest)."""
    newest: dict[str, datetime] = {}
    earliest: datetime | None = None
    stamps = [(r[0], r[2]) for r in readings] + [(e[0], e[1]) for e in events]
    for device_id, ts in stamps:
        if device_id not in newest or ts > newest[device_id]:
            newest[device_id] = ts
        if earliest is None or ts < earliest:
            earliest = ts
    return newest, (earliest, max(newest.values())) if earliest is not None else None


def _as_storage_error(delivery: Delivery, exc: Exception) -> Batch:
    """Replace a message the database refused with a reject that says why."""
    parsed = delivery.parsed
    device = parsed.readings[0][0] if parsed.readings else None
    reject = Reject(
        device,
        "",
        Reason.STORAGE_ERROR,
        str(exc)[:500],
        "",
        0,
        len(parsed.readings) + len(parsed.events),
    )
    parsed.readings, parsed.events, parsed.status = [], [], None
    parsed.rejects = [*parsed.rejects, reject]
    replaced = Batch()
    replaced.add(delivery)
    return replaced


def _sum(a: Committed, b: Committed) -> Committed:
    counts = dict(a.counts)
    for key, value in b.counts.items():
        counts[key] = counts.get(key, 0) + value
    return Committed(
        a.readings + b.readings, a.duplicates + b.duplicates, a.events + b.events, counts
    )


async def _touch_status(
    conn: Connection, statuses: list[tuple[str, bool]], last: dict[str, datetime]
) -> None:
    """Status changes and last-seen times of the registered devices among them."""
    ids = sorted({d for d, _ in statuses} | set(last))
    known = set(await registry.registered(conn, ids)) if ids else set()
    for device_id, online in statuses:
        await repository.set_status(conn, device_id, online, device_id in known)
    if last:
        await repository.touch_devices(conn, {d: t for d, t in last.items() if d in known})
