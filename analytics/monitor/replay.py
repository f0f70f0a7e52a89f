"""Replay stored history through the same pipelines the live detector uses."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from analytics.alerts import lifecycle
from analytics.alerts import service as alerts
from analytics.alerts.models import DeviceRef
from analytics.monitor import catalog, feed
from analytics.monitor.batching import time_batches
from analytics.monitor.pipeline import DevicePipeline, Finding
from ingest import service as ingest
from registry import service as registry
from servitize.db import Pool, transaction


async def replay(
    pool: Pool,
    start: datetime,
    end: datetime,
    *,
    partition: tuple[int, int] = (0, 1),
    dry_run: bool = False,
) -> Counter[str]:
    """Judge every stored reading in [start, end) in device time; returns findings per rule kind.

    Unless dry_run, the findings are written to the alert store (actor "replay"), one
    transaction per device.
    """
    async with pool.acquire() as conn:
        refs = {
            k: v
            for k, v in (await alerts.device_refs(conn)).items()
            if feed.in_partition(k, partition)
        }
        unit_map, ranges = await registry.metric_catalog(conn)
        specs = await registry.detection_specs(conn)
    counts: Counter[str] = Counter()
    for device_id, ref in sorted(refs.items()):
        t = ref.device_type
        detection = catalog.Detection.from_data(specs.get(t))
        pipe = DevicePipeline(
            device_id, t, unit_map.get(t, {}), ranges=ranges.get(t, {}), detection=detection
        )
        found = await _replay_device(pool, pipe, start, end)
        counts.update(f.detector for f in found if f.signal.fired)
        if not dry_run and found:
            await _write(pool, ref, found)
    return counts


async def _replay_device(
    pool: Pool, pipe: DevicePipeline, start: datetime, end: datetime
) -> list[Finding]:
    async with pool.acquire() as conn:
        rows = await ingest.device_readings(conn, pipe.device_id, start, end)
    series = feed.group_readings(list(rows)).get(pipe.device_id, {})
    found: list[Finding] = []
    # hour by hour across all metrics, as live: regimes, relations and muting see them together
    for batch in time_batches(series):
        found += pipe.judge_many(batch)
    return found


async def _write(pool: Pool, ref: DeviceRef, found: list[Finding]) -> None:
    async with transaction(pool) as conn:
        for f in found:
            await lifecycle.apply_finding(conn, ref, f, "replay")
