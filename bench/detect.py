"""Streaming detector throughput on one core, against a naive per-reading baseline.

Run: .venv/bin/python -m bench.detect [--series N] [--batch N] [--repeats N]
The process pins itself to one CPU and one BLAS thread. Measured, each as the median of the
repeats: the vectorised SeriesDetector (spike, drift, stuck, noise) fed batches of readings;
the same four checks written reading by reading in plain Python (the baseline a first
implementation would write); the whole DevicePipeline (detectors + catalog rules + alert
trackers) on a pump's five metrics; and multivariate model scoring.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from analytics.detectors.multivariate import MultivariateModel
from analytics.detectors.univariate import DetectorConfig, SeriesDetector
from analytics.monitor.detect import run_detector
from analytics.monitor.pipeline import DevicePipeline
from bench.common import machine, median, progress, scratch_database, server_url, table
from registry import service as registry
from registry.models import Device, Tenant
from servitize import db

CFG = DetectorConfig()


def series(n: int, seed: int) -> np.ndarray:
    """A noisy level with an occasional spike."""
    rng = np.random.default_rng(seed)
    x = 50 + rng.normal(0, 1, n)
    x[rng.integers(CFG.warmup, n, max(n // 5000, 1))] += 15
    return x


def vectorised(data: list[np.ndarray], batch: int) -> int:
    """Feed every series in batches; returns flagged readings."""
    flagged = 0
    for x in data:
        det = SeriesDetector(CFG)
        det.update(x[: CFG.warmup])
        for i in range(CFG.warmup, len(x), batch):
            flagged += int((det.update(x[i : i + batch]).flags > 0).sum())
    return flagged


def naive(data: list[np.ndarray]) -> int:
    """The same checks one reading at a time with a deque and statistics.median."""
    flagged = 0
    for x in data:
        warm = x[: CFG.warmup]
        level = statistics.median(warm)
        sd = 1.4826 * statistics.median(abs(v - level) for v in warm)
        win: deque[float] = deque(warm[-CFG.window :], maxlen=CFG.window)
        diffs: deque[float] = deque(maxlen=CFG.noise_window)
        pos = neg = 0.0
        run, last = 1, float(warm[-1])
        for v in x[CFG.warmup :].tolist():
            med = statistics.median(win)
            scale = max(1.4826 * statistics.median(abs(w - med) for w in win), 0.25 * sd)
            spike = abs(v - med) / scale > 7.0
            z = 0.0 if spike else (v - level) / sd
            pos, neg = max(0.0, pos + z - 0.75), max(0.0, neg - z - 0.75)
            level += 5e-4 * (min(max(v, med - 3 * scale), med + 3 * scale) - level)
            run = run + 1 if v == last else 1
            diffs.append(abs(v - last))
            noise = len(diffs) == diffs.maxlen and statistics.median(diffs) > 2.5 * sd
            flagged += spike or max(pos, neg) > 15 or run >= 12 or noise
            win.append(v)
            last = v
    return flagged


def timed(fn: Callable[[], object], readings: int, repeats: int) -> float:
    """Median readings per second over the repeats."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        rates.append(readings / (time.perf_counter() - t0))
    return median(rates)


def pipeline_rate(hours: int, repeats: int) -> float:
    """Readings/s of a pump's whole pipeline (5 metrics, 10 s interval) in one-hour batches."""
    n = hours * 360
    t = 1.7e9 + np.arange(n) * 10.0
    cols = {
        m: series(n, i)
        for i, m in enumerate(
            ("bearing_temp_c", "vibration_rms_mm_s", "motor_current_a", "pressure_bar", "flow_m3h")
        )
    }

    def run() -> None:
        # The default 240-reading warm-up, so almost every reading is judged.
        pipe = DevicePipeline("p", "pump-motor")
        for a in range(0, n, 360):
            pipe.judge_many({m: (t[a : a + 360], x[a : a + 360]) for m, x in cols.items()})

    return timed(run, n * len(cols), repeats)


def model_rate(rows: int, repeats: int) -> tuple[float, float]:
    """(rows/s, readings/s) of multivariate scoring for 5 metrics."""
    rng = np.random.default_rng(0)
    train = [rng.normal(size=(5000, 5)).cumsum(axis=0) * 0.01]
    model = MultivariateModel.fit(tuple("abcde"), train)
    data = rng.normal(size=(rows, 5)).cumsum(axis=0) * 0.01
    rate = timed(lambda: model.score_rows(data), rows, repeats)
    return rate, rate * 5


async def latency(batches: int) -> tuple[float, float, float]:
    """p50, p95, max seconds from an ingest batch's commit to its alert (database clock).

    Measured as alerts.opened_at (the detector transaction's start) minus
    ingest_batches.committed_at (the ingest transaction's start), both now() of PostgreSQL.
    """
    async with scratch_database(server_url()) as url:
        pool = await db.create_pool(url, max_size=6)
        try:
            await registry.ensure_builtin_types(pool)
            await registry.save_tenant(pool, Tenant("bench", "Bench"))
            ids = [f"pump-{i:03d}" for i in range(100)]
            await registry.register_devices(pool, [Device(i, "pump-motor", "bench") for i in ids])
            stop = asyncio.Event()
            task = asyncio.create_task(run_detector(pool, stop))
            await asyncio.sleep(0.5)
            for b in range(batches):
                await _feed_batch(pool, ids, b)
                await asyncio.sleep(0.05)
            await _wait_alerts(pool, batches)
            stop.set()
            await task
            async with pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT extract(epoch FROM a.opened_at - b.committed_at)::float8 AS s "
                    "FROM alerts a JOIN ingest_batches b "
                    "ON b.id = (a.evidence->'attrs'->>'batch')::bigint"
                )
        finally:
            await pool.close()
    lat = sorted(r["s"] for r in rows)
    return lat[len(lat) // 2], lat[int(0.95 * (len(lat) - 1))], lat[-1]


async def _feed_batch(pool: db.Pool, ids: list[str], b: int) -> None:
    """One ingest transaction per the contract: 20 devices' readings and one fault code."""
    now = datetime.now(UTC)
    chosen = ids[(b * 20) % len(ids) : (b * 20) % len(ids) + 20]
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO telemetry (device_id, metric, ts, value) VALUES ($1, 'flow_m3h', $2, $3)",
            [(d, now - timedelta(milliseconds=i), 100.0) for i, d in enumerate(chosen)],
        )
        batch_id = await conn.fetchval(
            "INSERT INTO ingest_batches (device_ids, min_ts, max_ts, readings, events) "
            "VALUES ($1, $2, $3, 20, 1) RETURNING id",
            chosen,
            now - timedelta(seconds=1),
            now,
        )
        await conn.execute(
            "INSERT INTO device_events (device_id, ts, type, code, attrs) "
            "VALUES ($1, $2, 'fault_code', $3, $4)",
            chosen[0],
            now,
            f"B{b}",
            {"batch": batch_id},
        )
        await conn.execute("SELECT pg_notify('servitize_ingest', $1)", str(batch_id))


async def _wait_alerts(pool: db.Pool, n: int) -> None:
    for _ in range(600):
        async with pool.acquire() as conn:
            if await conn.fetchval("SELECT count(*) FROM alerts") >= n:
                return
        await asyncio.sleep(0.05)
    raise RuntimeError("alerts did not all arrive")


def main() -> None:
    """Run and print the table."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--series", type=int, default=20)
    p.add_argument("--length", type=int, default=50_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--latency-batches", type=int, default=200)
    args = p.parse_args()
    progress("commit-to-alert latency (detector in-process, local PostgreSQL) ...")
    p50, p95, worst = asyncio.run(latency(args.latency_batches))
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    data = [series(args.length, s) for s in range(args.series)]
    judged = args.series * (args.length - CFG.warmup)
    rows = []
    with threadpool_limits(1):
        for batch in (100, 1000, 10_000):
            progress(f"vectorised, batches of {batch} ...")
            rate = timed(functools.partial(vectorised, data, batch), judged, args.repeats)
            rows.append((f"SeriesDetector, batches of {batch:,}", f"{rate:,.0f}"))
        progress("naive per-reading baseline ...")
        small = [x[: CFG.warmup + 5000] for x in data[:4]]
        base = timed(lambda: naive(small), 4 * 5000, max(args.repeats // 2, 1))
        rows.append(("naive per-reading Python (baseline)", f"{base:,.0f}"))
        progress("pipeline ...")
        rows.append(
            ("DevicePipeline, pump, 1-hour batches", f"{pipeline_rate(48, args.repeats):,.0f}")
        )
        progress("model scoring ...")
        mrows, mreadings = model_rate(20_000, args.repeats)
        rows.append(
            (
                "IsolationForest scoring (rows of 5 metrics)",
                f"{mrows:,.0f} rows/s = {mreadings:,.0f}",
            )
        )
    print(f"Machine: {machine()}; one core, one BLAS thread; median of {args.repeats} repeats\n")
    print(table(("what", "readings/s"), rows))
    print(
        f"\nCommit-to-alert latency over {args.latency_batches} batches: "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {worst * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
