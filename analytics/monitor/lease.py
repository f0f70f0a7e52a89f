"""One `servitize detect` process per partition: a lease held as a PostgreSQL advisory lock.

The lock belongs to one database session that the detector keeps open for as long as it
runs. A second process for the same partition waits (polling every `POLL_S`) and says whom
it waits for. When the holder dies its session ends and the lock is free at once; a host that
vanishes without closing its connection is noticed by the server's TCP keepalives (idle 10 s,
then 3 probes 5 s apart), so the partition is taken over within about 30 s at worst (about
`POLL_S` after a process exit). Every step checks, inside its own transaction, that the lease
session still holds the lock, so a detector that lost its lease writes nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from analytics.monitor import repository as repo
from servitize.db import Connection, Pool

log = logging.getLogger(__name__)

POLL_S = 1.0
KEEPALIVE = (10, 5, 3)  # idle s, interval s, probes: a dead peer is dropped within ~25 s
TAKEOVER_S = 30.0  # the documented worst case: keepalive detection plus one poll


class LeaseLost(RuntimeError):
    """The partition's lease is no longer held by this process."""


class Lease:
    """A held partition lease: its name and the backend pid of the holding session."""

    def __init__(self, partition: str, pid: int) -> None:
        self.partition = partition
        self.pid = pid

    async def check(self, conn: Connection) -> None:
        """Raise LeaseLost unless the lease session still holds the lock (call it in the
        transaction that writes, so nothing is written without the lease)."""
        if await repo.lease_holder(conn, self.partition) != self.pid:
            raise LeaseLost(f"detector {self.partition} lost its partition lease")


@contextlib.asynccontextmanager
async def held(pool: Pool, partition: str, stop: asyncio.Event) -> AsyncIterator[Lease | None]:
    """Hold the partition's lease for the block (None if stop was set while waiting)."""
    async with pool.acquire() as conn:
        await repo.keep_alive(conn, *KEEPALIVE)
        if not await _wait(conn, partition, stop):
            yield None
            return
        try:
            yield Lease(partition, await repo.session_pid(conn))
        finally:
            with contextlib.suppress(Exception):
                await repo.release_lease(conn, partition)


async def _wait(conn: Connection, partition: str, stop: asyncio.Event) -> bool:
    """Take the lock, waiting while another session holds it; False if stopped first."""
    said = False
    while not await repo.try_lease(conn, partition):
        if not said:
            holder = await repo.lease_holder(conn, partition)
            log.warning("detector %s: partition held by backend %s; waiting", partition, holder)
            said = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_S)
        if stop.is_set():
            return False
    log.info("detector %s: partition lease taken", partition)
    return True
