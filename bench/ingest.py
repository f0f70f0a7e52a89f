"""Ingest benchmark: sustained readings/s, publish-to-commit latency, readings lost.

Compares `servitize ingest` with the straightforward bridge (one INSERT per message) in the
same run, on a private broker and a scratch database. Usage:
    python -m bench.ingest [--readings 300000] [--repeats 3] [--rate 10000]
Set SERVITIZE_BENCH_DATABASE_URL to a TimescaleDB server to measure the hypertable path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.common import (
    machine,
    median,
    private_broker,
    progress,
    scratch_database,
    server_url,
    table,
)
from registry import service as registry
from registry.models import Device, Tenant
from servitize import db
from servitize.storage import active_path

DEVICES = 100
PER_MESSAGE = 10  # readings per message, one metric each: readings = stored rows


@dataclass
class Run:
    """One measured run."""

    readings: int
    stored: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        """Readings per second from first publish to last commit."""
        return self.stored / self.seconds


def _consumers(kind: str, db_url: str, mqtt_url: str) -> list[subprocess.Popen[bytes]]:
    if kind.startswith("servitize"):
        procs = int(kind.rsplit(" x", 1)[1]) if " x" in kind else 1
        return [_consumer(kind, db_url, mqtt_url, f"bench-ingest-{i}") for i in range(procs)]
    return [_consumer(kind, db_url, mqtt_url, "baseline")]


def _consumer(kind: str, db_url: str, mqtt_url: str, client_id: str) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        SERVITIZE_DATABASE_URL=db_url,
        SERVITIZE_MQTT_URL=mqtt_url,
        SERVITIZE_LOG_LEVEL="WARNING",
    )
    if " x" in kind:  # several processes share the load: a $share group (no broker restarts)
        env |= {"SERVITIZE_INGEST_GROUP": "ingest"}
        env |= {"SERVITIZE_INGEST_ALLOW_MOSQUITTO_SHARE": "true"}
    cmd = (
        [sys.executable, "-m", "servitize.cli", "ingest", "--client-id", client_id]
        if kind.startswith("servitize")
        else [
            sys.executable,
            "-m",
            "bench.baseline_bridge",
            "--mqtt-url",
            mqtt_url,
            "--db-url",
            db_url,
        ]
    )
    return subprocess.Popen(cmd, env=env)


def _publishers(
    mqtt_url: str, devices: list[str], messages: int, rate: float
) -> list[subprocess.Popen[bytes]]:
    base_ms = int((datetime.now(UTC) - timedelta(hours=6)).timestamp() * 1000)
    halves = [devices[: len(devices) // 2], devices[len(devices) // 2 :]]
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.publisher",
                "--url",
                mqtt_url,
                "--devices",
                ",".join(h),
                "--messages",
                str(messages),
                "--per-message",
                str(PER_MESSAGE),
                "--rate",
                str(rate / 2),
                "--base-ms",
                str(base_ms),
            ],
            stdout=subprocess.PIPE,
        )
        for h in halves
    ]


async def _stored(pool: db.Pool) -> int:
    async with pool.acquire() as conn:
        n: int = await conn.fetchval("SELECT count(*) FROM telemetry WHERE device_id <> 'probe'")
        return n


async def _wait_subscribed(pool: db.Pool, mqtt_url: str) -> None:
    from bench.publisher import publish

    base = int(time.time() * 1000) - 60_000
    for _ in range(300):
        await asyncio.to_thread(publish, mqtt_url, ["probe"], 1, 1, 0, base)
        async with pool.acquire() as conn:
            if await conn.fetchval("SELECT count(*) FROM telemetry WHERE device_id = 'probe'"):
                return
        await asyncio.sleep(0.2)
    raise RuntimeError("consumer never subscribed")


async def _drain(pool: db.Pool, expected: int) -> tuple[int, float]:
    """Poll until every reading is stored or nothing moves for 15 s; returns (stored, when)."""
    last, last_change = -1, time.time()
    while True:
        n = await _stored(pool)
        now = time.time()
        if n != last:
            last, last_change = n, now
        if n >= expected or now - last_change > 15:
            return n, last_change
        await asyncio.sleep(0.05)


async def _latency(pool: db.Pool, kind: str) -> tuple[float, float]:
    # seq holds the publish time in µs; servitize rows commit at their batch's committed_at
    # (taken just before COMMIT), baseline rows at their own INSERT's transaction time.
    ours = kind.startswith("servitize")
    commit = "b.committed_at" if ours else "t.ingested_at"
    join = "JOIN ingest_batches b ON b.ingested_at = t.ingested_at" if ours else ""
    sql = f"""SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY
                 (extract(epoch FROM {commit}) * 1e6 - t.seq) / 1000.0)
              FROM telemetry t {join} WHERE t.device_id <> 'probe'"""
    async with pool.acquire() as conn:
        p50, p99 = await conn.fetchval(sql)
    return float(p50), float(p99)


async def run_once(kind: str, server: str, readings: int, rate: float) -> Run:
    """Publish `readings` through a fresh consumer and measure."""
    async with scratch_database(server) as url:
        pool = await db.create_pool(url, max_size=2)
        broker = private_broker()
        devices = [f"pump-{i:04d}" for i in range(DEVICES)]
        await registry.ensure_builtin_types(pool)
        await registry.save_tenant(pool, Tenant("bench", "Bench"))
        await registry.register_devices(
            pool, [Device(d, "pump-motor", "bench") for d in [*devices, "probe"]]
        )
        consumers = _consumers(kind, url, broker.url)
        try:
            await _wait_subscribed(pool, broker.url)
            await asyncio.sleep(1.0 if len(consumers) > 1 else 0)  # let every member join
            messages = readings // (DEVICES * PER_MESSAGE)
            pubs = _publishers(broker.url, devices, messages, rate / PER_MESSAGE)
            outs = [json.loads((await asyncio.to_thread(p.communicate))[0]) for p in pubs]
            stored, end = await _drain(pool, messages * DEVICES * PER_MESSAGE)
            p50, p99 = await _latency(pool, kind)
        finally:
            for consumer in consumers:
                consumer.terminate()
            for consumer in consumers:
                consumer.wait(30)
            broker.stop()
            await pool.close()
        start = min(o["start"] for o in outs)
        return Run(messages * DEVICES * PER_MESSAGE, stored, end - start, p50, p99)


async def main_async(args: argparse.Namespace) -> None:
    """Run every case `repeats` times and print the table."""
    server = server_url()
    async with scratch_database(server) as url:
        conn = await db.connect(url)
        path = (await active_path(conn)).value
        await conn.close()
    cases = [
        ("servitize ingest, flat out", "servitize", args.readings, 0.0),
        ("2 servitize ingest processes, flat out", "servitize x2", args.readings, 0.0),
        ("baseline bridge, flat out", "baseline", args.baseline_readings, 0.0),
        (
            f"servitize ingest at {args.rate:,.0f} readings/s",
            "servitize",
            int(args.rate * 20),
            args.rate,
        ),
        (
            f"baseline bridge at {args.rate:,.0f} readings/s",
            "baseline",
            int(args.rate * 20),
            args.rate,
        ),
    ]
    rows = []
    for label, kind, readings, rate in cases:
        runs = []
        for i in range(args.repeats):
            progress(f"[bench.ingest] {label}: run {i + 1}/{args.repeats} ({readings:,} readings)")
            run = await run_once(kind, server, readings, rate)
            progress(
                f"  {run.rate:,.0f} readings/s, lost {run.readings - run.stored}, "
                f"p50 {run.p50_ms:.0f} ms, p99 {run.p99_ms:.0f} ms"
            )
            runs.append(run)
        rows.append(
            [
                label,
                f"{median([r.rate for r in runs]):,.0f}",
                f"{median([r.p50_ms for r in runs]):,.0f}",
                f"{median([r.p99_ms for r in runs]):,.0f}",
                max(r.readings - r.stored for r in runs),
                args.repeats,
            ]
        )
    print(f"Storage path: {path}. Machine: {machine()}.\n")
    print(table(["case", "readings/s (median)", "p50 ms", "p99 ms", "lost (max)", "runs"], rows))


def main() -> None:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--readings", type=int, default=300_000)
    p.add_argument("--baseline-readings", type=int, default=100_000)
    p.add_argument("--rate", type=float, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
