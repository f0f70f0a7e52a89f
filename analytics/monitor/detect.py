"""`servitize detect`: judge the ingest feed, partitioned by device, exactly once per batch.

Each step reads new batches after the partition's checkpoint, runs the device pipelines, and
writes the resulting alert changes together with the new checkpoint in one transaction, so a
restart neither loses nor repeats an alert. On start the detectors' state is rebuilt from the
readings before the checkpoint and the trackers from the open alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from analytics.alerts import lifecycle
from analytics.alerts import service as alerts
from analytics.alerts.models import DeviceRef, Severity
from analytics.alerts.notify import run_notifier
from analytics.detectors.multivariate import MultivariateModel
from analytics.detectors.tracker import Tracker
from analytics.detectors.univariate import DetectorConfig
from analytics.monitor import catalog, feed, lease
from analytics.monitor import repository as repo
from analytics.monitor.findings import clearing, fault_finding, opened
from analytics.monitor.lease import Lease
from analytics.monitor.modelstore import active_models
from analytics.monitor.pipeline import DevicePipeline, Finding
from ingest import service as ingest
from registry import service as registry
from servitize.db import Connection, Pool, transaction

log = logging.getLogger(__name__)

POLL_S = 1.0
# Readings per series replayed on start: enough for the rules' windows (a day of slope
# readings) and the detectors' windows; learnt limits come from detector_series_state.
PRELOAD_READINGS = 2000


@dataclass(slots=True)
class Detector:
    """One partition's detection state and loop."""

    pool: Pool
    partition: tuple[int, int] = (0, 1)
    config: DetectorConfig = field(default_factory=DetectorConfig)
    warmup_s: float = catalog.WARMUP_S
    refs: dict[str, DeviceRef] = field(default_factory=dict)
    units: registry.Units = field(default_factory=dict)
    ranges: registry.Ranges = field(default_factory=dict)
    intervals: dict[str, int] = field(default_factory=dict)
    # per device type: its offline policy in seconds, and its rules, regime and relations
    offline_after_s: dict[str, float] = field(default_factory=dict)
    detections: dict[str, catalog.Detection] = field(default_factory=dict)
    pipelines: dict[str, DevicePipeline] = field(default_factory=dict)
    offline: dict[str, bool] = field(default_factory=dict)
    models: dict[str, MultivariateModel] = field(default_factory=dict)
    cursor: feed.Cursor = field(init=False)
    alerts_written: int = 0
    # the partition lease this process holds (run_detector always has one)
    lease: Lease | None = None

    def __post_init__(self) -> None:
        i, n = self.partition
        if not 0 <= i < n:
            raise ValueError(f"partition {i}/{n}: need 0 <= i < N")
        self.cursor = feed.Cursor(f"{i}/{n}")

    @property
    def actor(self) -> str:
        """Who the audit trail names for this process's changes."""
        return f"detector:{self.cursor.name}"

    async def start(self) -> None:
        """Load the registry and checkpoint, rebuild state from history and open alerts."""
        self.models = await active_models(self.pool)
        async with transaction(self.pool) as conn:
            await self._load_registry(conn)
            await self.cursor.load(conn)
            await self._preload(conn)
            await self._load_trackers(conn)

    async def _load_registry(self, conn: Connection) -> None:
        refs = await alerts.device_refs(conn)
        self.refs = {k: v for k, v in refs.items() if feed.in_partition(k, self.partition)}
        self.units, self.ranges = await registry.metric_catalog(conn)
        self.intervals.update(await registry.reporting_intervals(conn))
        self.offline_after_s = await registry.offline_after_s(conn)
        specs = await registry.detection_specs(conn)
        self.detections = {t: catalog.Detection.from_data(d) for t, d in specs.items()}

    def pipeline(self, device_id: str) -> DevicePipeline:
        """The pipeline of one device (created on first use)."""
        if device_id not in self.pipelines:
            ref = self.refs[device_id]
            units = self.units.get(ref.device_type, {})
            self.pipelines[device_id] = DevicePipeline(
                device_id,
                ref.device_type,
                units,
                self.config,
                reporting_interval_s=self.intervals.get(ref.device_type, 0),
                warmup_s=self.warmup_s,
                model=self.models.get(ref.device_type),
                ranges=self.ranges.get(ref.device_type, {}),
                detection=self.detections.get(ref.device_type, catalog.Detection()),
            )
        return self.pipelines[device_id]

    async def _preload(self, conn: Connection) -> None:
        """Restore learnt limits, then replay recent readings judged before the checkpoint."""
        saved = await repo.series_limits(conn, list(self.refs))
        for r in saved:
            self.pipeline(r["device_id"]).restore_limits(r["metric"], r["limits"])
        keep = PRELOAD_READINGS
        rows = await ingest.recent_readings(conn, list(self.refs), self.cursor.last_id, keep)
        for device, series in feed.group_readings(list(rows)).items():
            # all metrics together, so relations refill their windows too (findings dropped:
            # these readings were judged before the checkpoint)
            self.pipeline(device).judge_many(series)
        warmed = sum(len(p.series) for p in self.pipelines.values())
        log.info("detector %s warmed %d series (%d readings)", self.cursor.name, warmed, len(rows))

    async def _load_trackers(self, conn: Connection) -> None:
        """Trackers mirror the open alerts: active ones can clear, others start idle."""
        for p in self.pipelines.values():
            for t in p.trackers.values():
                t.active, t.clear_since = False, None
        for r in await alerts.open_rules(conn, list(self.refs)):
            if r["rule"] == "offline":
                self.offline[r["device_id"]] = r["active"]
            elif r["active"] and not r["rule"].startswith("fault:"):
                pipe = self.pipeline(r["device_id"])
                tracker = pipe.trackers.setdefault(r["rule"], Tracker(pipe.hold_for(r["rule"])))
                tracker.active = True

    async def step(self) -> int:
        """Judge the batches that arrived since the last step; returns how many."""
        async with transaction(self.pool) as conn:
            await self._check_lease(conn)
            batches = await self.cursor.poll(conn)
            if not batches:
                self.cursor.advance([])
                return 0
            await self._refresh_registry(conn, batches)
            items: list[tuple[DeviceRef, Finding]] = []
            for batch in batches:
                items += await self._judge_batch(conn, batch)
            for dev, finding in items:
                self.alerts_written += len(
                    await lifecycle.apply_finding(conn, dev, finding, self.actor)
                )
            await self._save_limits(conn)
            self.cursor.advance(batches)
            await self.cursor.save(conn)
        return len(batches)

    async def _check_lease(self, conn: Connection) -> None:
        if self.lease is not None:
            await self.lease.check(conn)

    async def _save_limits(self, conn: Connection) -> None:
        """Persist limits learnt in this step (same transaction as the checkpoint)."""
        rows = [
            (device, metric, limits)
            for device, pipe in self.pipelines.items()
            for metric, limits in pipe.unsaved_limits()
        ]
        if rows:
            await repo.save_series_limits(conn, rows)

    async def _refresh_registry(self, conn: Connection, batches: list[feed.Batch]) -> None:
        ids = {d for b in batches for d in b.device_ids if feed.in_partition(d, self.partition)}
        unknown = [d for d in ids if d not in self.refs]
        if unknown:
            self.refs.update(await alerts.device_refs(conn, unknown))

    async def _judge_batch(
        self, conn: Connection, batch: feed.Batch
    ) -> list[tuple[DeviceRef, Finding]]:
        mine = [d for d in batch.device_ids if d in self.refs]
        if not mine or batch.min_ts is None:
            return []
        out: list[tuple[DeviceRef, Finding]] = []
        rows = await feed.batch_readings(conn, batch, mine)
        for device, series in feed.group_readings(list(rows)).items():
            out += [(self.refs[device], f) for f in self.pipeline(device).judge_many(series)]
        for ev in await feed.batch_events(conn, batch, mine):
            fault = fault_finding(ev)
            if fault is not None:
                out.append((self.refs[ev["device_id"]], fault))
        return out

    async def check_offline(self) -> int:
        """Raise or clear offline alerts from device_status; returns alert changes."""
        async with transaction(self.pool) as conn:
            await self._check_lease(conn)
            enabled = await registry.registered(conn, list(self.refs), enabled_only=True)
            rows = await ingest.device_silence(conn, enabled)
            changes = 0
            for r in rows:
                f = self._offline_finding(r)
                if f is not None:
                    dev = self.refs[r["device_id"]]
                    changes += len(await lifecycle.apply_finding(conn, dev, f, self.actor))
        return changes

    def _offline_finding(self, r: Any) -> Finding | None:
        dev = self.refs[r["device_id"]]
        limit = self.offline_after_s.get(dev.device_type, 300.0)
        silent = r["silent"] is not None and r["silent"] > limit
        # a device that sent its Last Will and then telemetry is back (as device_presence says)
        down = bool(r["will_stands"]) or silent
        was = self.offline.get(dev.id, False)
        if down == was:
            return None
        self.offline[dev.id] = down
        if down:
            why = (
                "sent its Last Will (offline)"
                if r["will_stands"]
                else f"silent for {r['silent']:.0f} s"
            )
            k = f"{limit / self.intervals.get(dev.device_type, 60):g} reporting intervals"
            return Finding(
                rule="offline",
                detector="offline",
                metric=None,
                severity=Severity.MAJOR,
                signal=opened(r["last_t"], Severity.MAJOR),
                value=r["silent"],
                threshold=limit,
                score=None,
                sentence=f"{dev.id} offline: {why}, limit {limit:.0f} s ({k})",
            )
        return clearing("offline", "offline", Severity.MAJOR, r["now_t"])


async def run_detector(
    pool: Pool,
    stop_event: asyncio.Event,
    partition: tuple[int, int] = (0, 1),
    *,
    warmup_s: float = catalog.WARMUP_S,
) -> None:
    """Run one detector partition until stop_event is set (LISTEN-driven, polling as backup).

    The partition's lease is taken first: while another process holds it, this one waits
    (see lease.py; a dead holder's partition is taken over within lease.TAKEOVER_S). A lost
    lease stops the loop and the lease is taken again, state rebuilt from the checkpoint.
    `warmup_s` is how much device time each series is watched before its self-set limits are
    fixed (a week by default; a demo may pass minutes).
    """
    name = f"{partition[0]}/{partition[1]}"
    while not stop_event.is_set():
        async with lease.held(pool, name, stop_event) as mine:
            if mine is None:
                return
            det = Detector(pool, partition, warmup_s=warmup_s, lease=mine)
            try:
                await _run_leased(det, stop_event)
            except lease.LeaseLost as exc:
                log.warning("%s; waiting to take it again", exc)


async def _run_leased(det: Detector, stop_event: asyncio.Event) -> None:
    await det.start()
    pool = det.pool
    wake = asyncio.Event()
    # One notifier per deployment is enough; partition 0 runs it (SKIP LOCKED makes more safe).
    quit_notifier = asyncio.Event()
    notifier = None
    if det.partition[0] == 0:
        policy = alerts.webhook_policy()
        notifier = asyncio.create_task(run_notifier(pool, quit_notifier, policy))
    async with pool.acquire() as listen:

        def poke(*_: object) -> None:
            wake.set()

        await listen.add_listener("servitize_ingest", poke)
        await listen.add_listener("servitize_status", poke)
        try:
            await _loop(det, stop_event, wake)
        finally:
            await listen.remove_listener("servitize_ingest", poke)
            await listen.remove_listener("servitize_status", poke)
            quit_notifier.set()
            if notifier is not None:
                await notifier


async def _loop(det: Detector, stop: asyncio.Event, wake: asyncio.Event) -> None:
    last_offline = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        wake.clear()
        try:
            while await det.step():
                pass
            if loop.time() - last_offline >= POLL_S or wake.is_set():
                await det.check_offline()
                last_offline = loop.time()
        except lease.LeaseLost:
            raise
        except Exception:  # keep running: the checkpoint makes the failed step retry
            log.exception("detector step failed; retrying")
            await asyncio.sleep(POLL_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_first(stop, wake), POLL_S)


async def _first(stop: asyncio.Event, wake: asyncio.Event) -> None:
    tasks = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
