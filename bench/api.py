"""API benchmark: alert list p99 under 50 concurrent clients over 100,000 alerts, and a
30-day hourly telemetry query of one device.

Runs `servitize api` as a separate process on a scratch database; the load generator is this
process (one asyncio loop, httpx). Baselines in the same run: the health endpoint (no
database) as the floor, and the same hourly series aggregated from raw rows in SQL.
Usage:
    python -m bench.api [--alerts 100000] [--clients 50] [--requests 20] [--repeats 3]
Set SERVITIZE_BENCH_DATABASE_URL to a TimescaleDB server to measure that storage path.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx

from api import service as keys
from bench.common import machine, median, progress, scratch_database, server_url, table
from ingest.rollup import upkeep_once
from registry import service as registry
from registry.models import Device, Site, Tenant
from servitize import db
from servitize.infra import free_port, wait_for_port
from servitize.storage import active_path

TENANTS, DEVICES_PER_TENANT = 10, 20
METRICS = ("motor_temp_c", "battery_pct", "cpu_temp_c", "speed_mps")
STEP_S = 10  # the robot's reporting interval
DAYS = 30

_ALERTS = """
WITH d AS (SELECT id, tenant_id, site_id, row_number() OVER (ORDER BY id) - 1 AS i FROM devices)
INSERT INTO alerts (tenant_id, site_id, device_id, rule, detector, metric, severity, active,
                    closed_at, close_reason, first_ts, last_ts, sentence, opened_at, updated_at)
SELECT d.tenant_id, d.site_id, d.id, 'rule:bench-' || g, 'threshold', 'motor_temp_c',
       (ARRAY['info', 'warning', 'major', 'critical'])[1 + g % 4], g % 50 = 0,
       CASE WHEN g % 50 = 0 THEN NULL ELSE t + INTERVAL '1 hour' END,
       CASE WHEN g % 50 = 0 THEN NULL ELSE 'resolved' END, t, t, 'motor temperature high', t, t
FROM generate_series(0, $1 - 1) g
JOIN d ON d.i = g % (SELECT count(*) FROM devices)
CROSS JOIN LATERAL (SELECT now() - make_interval(secs => ($1 - g) * 25) AS t) ts"""

_TELEMETRY = """
INSERT INTO telemetry (device_id, metric, ts, value, flags, ingested_at)
SELECT 'acme-0-r0', m, t, 40 + 10 * sin(extract(epoch FROM t) / 3600), 0, now()
FROM unnest($1::text[]) m, generate_series($2::timestamptz, $3, make_interval(secs => $4)) t"""

_RAW_HOURLY = """
SELECT metric, date_bin('1 hour', ts, TIMESTAMPTZ '2000-01-01Z') b, min(value), max(value),
       avg(value), count(*)
FROM telemetry WHERE device_id = 'acme-0-r0' AND ts >= $1 AND ts < $2 AND flags = 0
GROUP BY 1, 2 ORDER BY 1, 2"""


async def seed(url: str, alerts: int) -> str:
    """Tenants, devices, alerts, 30 days of telemetry of one robot; returns an admin token."""
    pool = await db.create_pool(url, max_size=2)
    try:
        await registry.ensure_builtin_types(pool)
        for t in range(TENANTS):
            tid = f"acme-{t}"
            await registry.save_tenant(pool, Tenant(tid, tid), [Site(f"{tid}-s", tid, "Site")])
            await registry.register_devices(
                pool,
                [
                    Device(f"{tid}-r{i}", "substation-robot", tid, f"{tid}-s")
                    for i in range(DEVICES_PER_TENANT)
                ],
            )
        progress(f"inserting {alerts:,} alerts")
        async with pool.acquire() as conn:
            await conn.execute(_ALERTS, alerts)
            await conn.execute("ANALYZE alerts")
        await _telemetry(pool, url)
        _, token = await keys.create_key(pool, "admin", name="bench")
    finally:
        await pool.close()
    return token


async def _telemetry(pool: db.Pool, url: str) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=DAYS)
    rows = len(METRICS) * DAYS * 86400 // STEP_S
    progress(
        f"inserting {rows:,} readings ({DAYS} days of {len(METRICS)} metrics every {STEP_S} s)"
    )
    async with pool.acquire() as conn:
        await conn.execute(_TELEMETRY, list(METRICS), start, end, STEP_S)
        await conn.execute(
            """INSERT INTO ingest_batches (device_ids, min_ts, max_ts, readings, events,
               committed_at) VALUES ('{acme-0-r0}', $1, $2, $3, 0, now() - INTERVAL '1 minute')""",
            start,
            end,
            rows,
        )
        await conn.execute("ANALYZE telemetry")
        path = await active_path(conn)
    progress(f"building rollups ({path.value}) with the ingest upkeep pass, as deployed")
    await upkeep_once(pool, retention_days=365)


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    """`servitize api` on a free port, without access logs."""
    port = free_port()
    env = os.environ | {"SERVITIZE_DATABASE_URL": url, "SERVITIZE_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "servitize.cli", "api", "--port", str(port), "--no-access-log"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    wait_for_port("127.0.0.1", port, timeout=30)
    return proc, f"http://127.0.0.1:{port}"


async def load(base: str, path: str, token: str, clients: int, requests: int) -> list[float]:
    """Latencies (ms) of `clients` concurrent clients each sending `requests` GETs in turn."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, limits=limits, headers=headers, timeout=60) as c:

        async def one_client() -> list[float]:
            out = []
            for _ in range(requests):
                t0 = time.perf_counter()
                response = await c.get(path)
                out.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
            return out

        if (await c.get(path)).status_code == 404:  # also warms connections and caches
            return []  # the route is not installed (its domain has not landed)
        results = await asyncio.gather(*(one_client() for _ in range(clients)))
    return [v for r in results for v in r]


def p(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def raw_hourly_ms(url: str) -> float:
    """The same hourly series aggregated from raw rows (no rollup), in SQL, for comparison."""
    end = datetime.now(UTC)
    conn = await db.connect(url)
    try:
        t0 = time.perf_counter()
        await conn.fetch(_RAW_HOURLY, end - timedelta(days=DAYS), end)
        return (time.perf_counter() - t0) * 1000
    finally:
        await conn.close()


async def measure(base: str, url: str, token: str, args: argparse.Namespace) -> list[list[object]]:
    """Every scenario, repeated; medians over repeats."""
    end = datetime.now(UTC).replace(microsecond=0)
    span = f"from={(end - timedelta(days=DAYS)).isoformat()}&to={end.isoformat()}".replace(
        "+", "%2B"
    )
    hourly = f"/api/v1/devices/acme-0-r0/telemetry?resolution=1h&limit=10000&{span}"
    scenarios = [
        ("health/live (floor, no database)", "/api/v1/health/live", 1),
        ("health/live (floor, no database)", "/api/v1/health/live", args.clients),
        ("device detail (auth + 1 query)", "/api/v1/devices/acme-0-r0", args.clients),
        ("alert list, newest 50", "/api/v1/alerts?limit=50", 1),
        ("alert list, newest 50", "/api/v1/alerts?limit=50", args.clients),
        (
            "alert list, open, one tenant",
            "/api/v1/alerts?limit=50&state=open&tenant_id=acme-3",
            args.clients,
        ),
        (f"{DAYS}-day hourly telemetry, 1 client", hourly, 1),
    ]
    rows: list[list[object]] = []
    for name, path, clients in scenarios:
        p50s, p99s, rates = [], [], []
        for r in range(args.repeats):
            progress(f"{name}: repeat {r + 1}/{args.repeats}")
            t0 = time.perf_counter()
            lat = await load(base, path, token, clients, args.requests)
            if not lat:
                break
            rates.append(len(lat) / (time.perf_counter() - t0))
            p50s.append(p(lat, 0.5))
            p99s.append(p(lat, 0.99))
        if not p50s:
            rows.append([name, clients, "route not installed", "", ""])
            continue
        rows.append(
            [name, clients, f"{median(p50s):.1f}", f"{median(p99s):.1f}", f"{median(rates):.0f}"]
        )
    raw = [await raw_hourly_ms(url) for _ in range(args.repeats)]
    rows.append(
        [f"{DAYS}-day hourly from raw rows (SQL only, baseline)", 1, f"{median(raw):.1f}", "", ""]
    )
    return rows


async def main() -> int:
    """Seed, serve, measure, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="per client per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    async with scratch_database(server_url()) as url:
        token = await seed(url, args.alerts)
        conn = await db.connect(url)
        path = (await active_path(conn)).value
        await conn.close()
        proc, base = start_server(url)
        try:
            rows = await measure(base, url, token, args)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"\nAPI benchmark on {machine()}; storage path {path}; {args.alerts:,} alerts; ")
    print(f"medians over {args.repeats} repeats; latencies in ms\n")
    print(table(["scenario", "clients", "p50 ms", "p99 ms", "req/s"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
