"""Fleet benchmark: a firmware campaign over N simulated devices, and command round trips.

Devices are `DeviceAgent`s on a few MQTT connections (bench/fleet_farm.py); the fleet runtime
runs in this process against a scratch database and a private Mosquitto. Presence is set
online in `device_status` directly (no ingest process), so the numbers are the fleet's own.
Baselines in the same run, on the same broker and farm:
- commands: a bare MQTT request/answer per device (no database, no state machine);
- campaign: the same devices fetching the same package, chunk by chunk, from a bare MQTT
  chunk server holding it in memory (no database, no gate, no audit).
Usage:
    python -m bench.fleet [--devices 2000] [--size 1048576] [--commands 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt

from bench.common import machine, private_broker, progress, scratch_database, server_url, table
from bench.fleet_farm import Farm, echo_round_trips
from fleet import campaign_service, package_service, service, signing
from fleet.models import NewCommand, RetryPolicy, Transfer
from fleet.runtime import FleetConfig, FleetRuntime
from registry import service as registry
from registry.models import Tenant
from servitize import db
from servitize.mqtturl import MqttUrl
from simulators.agent import DeviceAgent

CHUNK = 32 * 1024
_DB_LOAD = """SELECT xact_commit, tup_inserted + tup_updated + tup_deleted AS writes
FROM pg_stat_database WHERE datname = current_database()"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _seed(pool: db.Pool, n: int) -> list[str]:
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(pool, Tenant("bench", "Bench"))
    ids = [f"b{i:05d}" for i in range(n)]
    async with pool.acquire() as conn:  # bulk, without credentials: PBKDF2 would dominate
        await conn.executemany(
            "INSERT INTO devices (id, device_type_id, tenant_id) "
            "VALUES ($1, 'pump-motor', 'bench')",
            [(i,) for i in ids],
        )
        await conn.execute(
            """INSERT INTO device_status (device_id, online, status_changed_at, last_seen_at)
               SELECT id, true, now(), now() FROM devices"""
        )
    return ids


async def _commands(pool: db.Pool, ids: list[str]) -> list[float]:
    made = [await service.queue(pool, NewCommand(device_id=i, name="ping"), "bench", "bench")
            for i in ids]  # fmt: skip
    while True:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT finished_at - created_at AS took FROM fleet_commands "
                "WHERE id = ANY($1) AND state = 'SUCCEEDED'", [m["id"] for m in made],
            )  # fmt: skip
        if len(rows) == len(made):
            return [r["took"].total_seconds() for r in rows]
        await asyncio.sleep(0.2)


async def _baseline_campaign(broker: str, ids: list[str], content: bytes, pem: bytes) -> float:
    """Seconds for every device to fetch, verify and install from a bare chunk server."""
    key = signing.load_private_pem(pem)
    digest = signing.sha256_hex(content)
    chunks = [content[i : i + CHUNK] for i in range(0, len(content), CHUNK)]
    params = {"campaign_id": "base", "version": "2.0.0", "sha256": digest, "chunks": len(chunks),
              "signature": signing.sign(key, digest), "chunk_bytes": CHUNK}  # fmt: skip
    public = signing.load_public(signing.public_pem(key))
    agents = [DeviceAgent(i, public_key=public, reboot_s=0.2) for i in ids]
    url = MqttUrl.parse(broker)
    async with Farm(agents, broker).running(), aiomqtt.Client(url.host, url.port) as server:
        await server.subscribe("devices/+/ota/request", qos=1)

        async def serve() -> None:
            async for m in server.messages:
                assert isinstance(m.payload, bytes)
                n = json.loads(m.payload)["n"]
                body = {"campaign_id": "base", "n": n, "total": len(chunks),
                        "data": base64.b64encode(chunks[n]).decode()}  # fmt: skip
                device = m.topic.value.split("/")[1]
                await server.publish(f"devices/{device}/ota/chunk", json.dumps(body), qos=1)

        task, start = asyncio.create_task(serve()), time.perf_counter()
        for i in ids:
            cmd = {"command_id": f"base{i}", "name": "firmware_update", "params": params}
            await server.publish(f"devices/{i}/commands/base{i}", json.dumps(cmd), qos=1)
        await _until(lambda: _all_updated(agents), 0.1)
        took = time.perf_counter() - start
        task.cancel()
    return took


async def _all_updated(agents: list[DeviceAgent]) -> bool:
    return all(a.version == "2.0.0" for a in agents)


async def _until(
    check: Callable[[], Awaitable[bool]], every_s: float, within_s: float = 3600
) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        await asyncio.sleep(every_s)


async def _campaign(
    pool: db.Pool, ids: list[str], farm: Farm, content: bytes, pem: bytes
) -> dict[str, Any]:
    key = signing.load_private_pem(pem)
    package = await package_service.upload(pool, "pump-motor", "2.0.0", content, key=key,
                                           max_bytes=len(content), actor="bench")  # fmt: skip
    spec = {"id": "bench", "name": "bench", "package_id": package["id"], "tenant_id": None,
            "site_id": None, "canary": max(1, len(ids) // 100), "waves": [10, 100],
            "success_pct": 90.0, "abort_failure_pct": 50.0, "min_finished": 10,
            "rate_per_min": 1_000_000, "timeout_s": 3600}  # fmt: skip
    async with pool.acquire() as conn:
        before = dict(await conn.fetchrow(_DB_LOAD) or {})
    chunks0, msgs0 = farm.stats.chunks, farm.stats.received + farm.stats.published
    start = time.perf_counter()
    await campaign_service.create(pool, spec, "bench")

    async def over() -> bool:
        return bool((await campaign_service.get(pool, "bench", None))["state"] != "RUNNING")

    await _until(over, 0.5)
    took = time.perf_counter() - start
    async with pool.acquire() as conn:
        after = dict(await conn.fetchrow(_DB_LOAD) or {})
    state = await campaign_service.get(pool, "bench", None)
    return {"seconds": took, "state": state["state"], "counts": state["counts"],
            "chunks": farm.stats.chunks - chunks0,
            "messages": farm.stats.received + farm.stats.published - msgs0,
            "commits": after["xact_commit"] - before["xact_commit"],
            "writes": after["writes"] - before["writes"]}  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    content, pem = os.urandom(args.size), signing.private_pem(signing.new_key())
    broker = private_broker()
    try:
        async with scratch_database(server_url()) as url:
            pool = await db.create_pool(url, max_size=8)
            try:
                await _measure(pool, broker.url, args, content, pem)
            finally:
                await pool.close()
    finally:
        broker.stop()


async def _measure(pool: db.Pool, broker: str, args: argparse.Namespace, content: bytes,
                   pem: bytes) -> None:  # fmt: skip
    ids = await _seed(pool, args.devices)
    cmd_ids = ids[: args.commands]
    progress(f"baseline campaign: {len(ids)} devices, {len(content)} bytes")
    base_s = await _baseline_campaign(broker, ids, content, pem)
    public = signing.load_public(signing.public_pem(signing.load_private_pem(pem)))
    agents = [DeviceAgent(i, public_key=public, reboot_s=0.2) for i in ids]
    farm = Farm(agents, broker)
    config = FleetConfig(
        mqtt=MqttUrl.parse(broker), client_id="bench-fleet", tick_s=0.2,
        retry=RetryPolicy(30.0, 60.0), transfer=Transfer(chunk_bytes=CHUNK),
    )  # fmt: skip
    stop = asyncio.Event()
    async with farm.running():
        runtime = FleetRuntime(pool, config)
        task = asyncio.create_task(runtime.run(stop))
        await asyncio.wait_for(runtime.connected.wait(), 30)
        progress(f"commands: {len(cmd_ids)} devices")
        echo = await echo_round_trips(broker, cmd_ids)
        fleet_rtt = await _commands(pool, cmd_ids)
        progress("fleet campaign")
        result = await _campaign(pool, ids, farm, content, pem)
        stop.set()
        await task
    _report(args, len(ids), len(content), echo, fleet_rtt, base_s, result)


def _report(args: argparse.Namespace, n: int, size: int, echo: list[float], rtt: list[float],
            base_s: float, r: dict[str, Any]) -> None:  # fmt: skip
    chunks = n * -(-size // CHUNK)
    print(f"Machine: {machine()}\n")
    print(table(["command round trip", "p50 ms", "p99 ms", "devices"], [
        ["fleet (queue → SUCCEEDED, DB + state machine)", f"{_pct(rtt, .5) * 1000:.0f}",
         f"{_pct(rtt, .99) * 1000:.0f}", len(rtt)],
        ["baseline: bare MQTT echo", f"{_pct(echo, .5) * 1000:.0f}",
         f"{_pct(echo, .99) * 1000:.0f}", len(echo)],
    ]))  # fmt: skip
    print()
    print(table(["campaign", "devices", "package", "seconds", "chunks/s", "outcome"], [
        ["fleet (gate, DB, audit)", n, f"{size // 1024} KiB", f"{r['seconds']:.1f}",
         f"{r['chunks'] / r['seconds']:.0f}", f"{r['state']} {r['counts']}"],
        ["baseline: bare chunk server", n, f"{size // 1024} KiB", f"{base_s:.1f}",
         f"{chunks / base_s:.0f}", "all installed"],
    ]))  # fmt: skip
    print(
        f"\nFleet run load: {r['messages']:,} device messages in+out, {r['commits']:,} "
        f"database commits, {r['writes']:,} row writes."
    )


def main() -> None:
    """Parse arguments and run."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--devices", type=int, default=2000)
    p.add_argument("--size", type=int, default=1024 * 1024, help="package bytes")
    p.add_argument("--commands", type=int, default=1000, help="devices in the round-trip test")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
