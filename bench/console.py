"""Console benchmark: the alert list page over 100,000 alerts, a 30-day device chart, and
100 open consoles on the live alert stream.

Runs `servitize api` (which serves the console) as a separate process on a scratch database
seeded as bench.api seeds it; the clients are this process (one asyncio loop, httpx) with a
session cookie of a provider-wide admin. Baselines in the same run: the API's JSON alert list
and 30-day hourly telemetry (same data, key auth, no HTML), and one stream client.
Usage:
    python -m bench.console [--alerts 100000] [--clients 20] [--requests 10] [--streams 100]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx

from bench.api import DAYS, p, seed, start_server
from bench.common import machine, progress, scratch_database, server_url, table
from console import service as console
from servitize import db


async def session_cookie(url: str) -> str:
    """A provider-wide admin's session, opened directly (the bench measures pages, not login)."""
    pool = await db.create_pool(url, max_size=2)
    try:
        user = await console.create_user(pool, "bench", "bench password 1", "admin")
        token, _ = await console.open_session(pool, user, 86400)
    finally:
        await pool.close()
    return token


async def load(base: str, path: str, auth: dict[str, str], clients: int, n: int) -> list[float]:
    """Latencies (ms) of `clients` concurrent clients each sending `n` GETs in turn."""
    cookies = {"svz_session": auth["cookie"]} if "cookie" in auth else {}
    headers = {"Authorization": f"Bearer {auth['token']}"} if "token" in auth else {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, headers=headers, limits=limits, timeout=120
    ) as c:
        (await c.get(path)).raise_for_status()  # warm

        async def one() -> list[float]:
            out = []
            for _ in range(n):
                t0 = time.perf_counter()
                (await c.get(path)).raise_for_status()
                out.append((time.perf_counter() - t0) * 1000)
            return out

        return [v for r in await asyncio.gather(*(one() for _ in range(clients))) for v in r]


async def _listen(
    c: httpx.AsyncClient, ready: asyncio.Event, marker: str, seen: list[float]
) -> None:
    async with c.stream("GET", "/console/events") as response:
        response.raise_for_status()
        ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data:") and marker in line:
                seen.append(time.time())
                return


async def streams(base: str, url: str, cookie: str, n: int) -> list[float]:
    """Delivery latency (ms) of one new alert event to each of n open console streams."""
    marker = f"bench-{time.monotonic_ns()}"
    seen: list[float] = []
    limits = httpx.Limits(max_connections=n + 5)
    async with httpx.AsyncClient(
        base_url=base, cookies={"svz_session": cookie}, limits=limits, timeout=120
    ) as c:
        readies = [asyncio.Event() for _ in range(n)]
        tasks = [asyncio.create_task(_listen(c, r, marker, seen)) for r in readies]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
        await asyncio.sleep(1.0)  # every stream past its first (empty) fetch
        conn = await db.connect(url)
        try:
            sent = time.time()
            await conn.execute(
                """INSERT INTO alert_events (alert_id, tenant_id, actor, action, detail)
                   SELECT id, tenant_id, 'bench', 'commented', jsonb_build_object('m', $1::text)
                   FROM alerts ORDER BY id DESC LIMIT 1""",
                marker,
            )
        finally:
            await conn.close()
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    return [(t - sent) * 1000 for t in seen]


def _row(name: str, clients: int, lat: list[float]) -> list[object]:
    return [name, clients, f"{p(lat, 0.5):.1f}", f"{p(lat, 0.99):.1f}", f"{max(lat):.1f}"]


async def measure(base: str, url: str, token: str, args: argparse.Namespace) -> list[list[object]]:
    cookie = {"cookie": await session_cookie(url)}
    key = {"token": token}
    end = datetime.now(UTC).replace(microsecond=0)
    span = f"from={(end - timedelta(days=DAYS)).isoformat()}&to={end.isoformat()}"
    hourly = "/api/v1/devices/acme-0-r0/telemetry?resolution=1h&limit=10000&metric=motor_temp_c&"
    chart = "/console/devices/acme-0-r0/series?metric=motor_temp_c&range=30d"
    n = args.clients
    scenarios = [
        ("console alert list page (HTML, newest 100)", "/console/alerts", cookie, 1),
        ("console alert list page (HTML, newest 100)", "/console/alerts", cookie, n),
        ("console alert list, text filter", "/console/alerts?q=bench-7", cookie, n),
        ("API alert list JSON, newest 100 (baseline)", "/api/v1/alerts?limit=100", key, n),
        (f"console {DAYS}-day chart series (1 metric)", chart, cookie, 1),
        (f"API {DAYS}-day hourly telemetry, 1 metric (baseline)",
         hourly + span.replace("+", "%2B"), key, 1),
    ]  # fmt: skip
    rows: list[list[object]] = []
    for name, path, auth, clients in scenarios:
        progress(name)
        runs = [await load(base, path, auth, clients, args.requests) for _ in range(args.repeats)]
        rows.append(_row(name, clients, [v for r in runs for v in r]))
    for n in (1, args.streams):
        progress(f"{n} open console streams")
        got = [
            v for _ in range(args.repeats) for v in await streams(base, url, cookie["cookie"], n)
        ]
        rows.append(_row("live stream: a new event reaches every open console", n, got))
    return rows


async def main_async(args: argparse.Namespace) -> int:
    print(machine())
    async with scratch_database(server_url()) as url:
        token = await seed(url, args.alerts)
        proc, base = start_server(url)
        try:
            rows = await measure(base, url, token, args)
        finally:
            proc.terminate()
            proc.wait(10)
    print(table(["scenario", "clients", "p50 ms", "p99 ms", "max ms"], rows))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
