"""Ingest's in-memory view of the registry, reloaded on change notifications and periodically."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ingest.validation import metric_ranges
from registry import service as registry
from registry.models import DeviceInfo
from servitize.db import Pool

log = logging.getLogger(__name__)


class RegistryCache:
    """Devices and metric ranges, swapped atomically on reload."""

    def __init__(self, pool: Pool, refresh_s: float) -> None:
        self.pool, self.refresh_s = pool, refresh_s
        self.devices: dict[str, DeviceInfo] = {}
        self.ranges: dict[str, dict[str, tuple[float, float]]] = {}
        self._changed = asyncio.Event()

    async def load(self) -> None:
        """Read the registry now."""
        async with self.pool.acquire() as conn:
            snap = await registry.snapshot(conn)
        self.devices, self.ranges = snap.devices, metric_ranges(snap.devices)

    async def run(self, stop: asyncio.Event) -> None:
        """Reload on NOTIFY servitize_registry and every refresh_s seconds until stopped."""
        while not stop.is_set():
            try:
                await self._listen(stop)
            except Exception as exc:  # the database went away: poll until it is back
                log.warning("registry listener lost (%s); retrying", exc)
                await asyncio.sleep(self.refresh_s)

    async def _listen(self, stop: asyncio.Event) -> None:
        async with self.pool.acquire() as conn:
            await conn.add_listener("servitize_registry", self._on_notify)
            try:
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), self.refresh_s)
                    self._changed.clear()
                    await self._reload_quietly()
            finally:
                with contextlib.suppress(Exception):
                    await conn.remove_listener("servitize_registry", self._on_notify)

    async def _reload_quietly(self) -> None:
        try:
            await self.load()
        except Exception as exc:  # keep serving the last good view while the DB is away
            log.warning("registry reload failed (%s); keeping %d devices", exc, len(self.devices))

    def _on_notify(self, *_: Any) -> None:
        self._changed.set()
