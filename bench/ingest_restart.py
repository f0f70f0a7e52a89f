"""Broker restart benchmark: QoS 1 readings acknowledged to a device vs. stored, across restarts.

One device publishes readings at a steady rate to a private Mosquitto running the shipped
deploy/mosquitto/mosquitto.conf; the broker is restarted cleanly (SIGTERM, as systemd does)
mid-stream; ingest runs with the shipped settings. The same run repeats it with a $share group
(allowed on purpose) as the baseline. Usage:
    python -m bench.ingest_restart [--readings 100000] [--rate 800] [--restarts 1]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.common import WORK, machine, progress, scratch_database, server_url, table
from servitize import db
from servitize.settings import Settings
from tests.deploy_broker import DeployBroker, publish_paced, settled, shipped_ingest

WORK_PASSWORD = "bench-ingest"


async def one_run(group: str, readings: int, rate: float, restarts: int) -> list[object]:
    """Publish, restart, count; one table row."""
    async with scratch_database(server_url()) as url:
        pool = await db.create_pool(url, max_size=4)
        broker = DeployBroker(WORK)
        try:
            device_pw = await broker.one_device(pool, {"ingest": WORK_PASSWORD})
            broker.start()
            settings = Settings(
                database_url=url,
                mqtt_url=broker.url("ingest", WORK_PASSWORD),
                ingest_group=group,
                ingest_allow_mosquitto_share=bool(group),
            )
            async with shipped_ingest(pool, settings):
                start = time.monotonic()
                restarter = asyncio.create_task(_restart(broker, readings / rate, restarts))
                acked = await publish_paced(broker.url("pump-0", device_pw), readings, rate)
                elapsed = time.monotonic() - start
                await restarter
                stored = await settled(pool, acked, quiet_s=10)
        finally:
            broker.stop()
            await pool.close()
    label = f"$share/{group}" if group else "'' (shipped)"
    return [label, acked, stored, acked - stored, restarts, f"{acked / elapsed:.0f}"]  # published/s


async def _restart(broker: DeployBroker, duration_s: float, restarts: int) -> None:
    for _ in range(restarts):
        await asyncio.sleep(duration_s / (restarts + 1))
        await asyncio.to_thread(broker.restart)
        progress("broker restarted")


async def main(args: argparse.Namespace) -> None:
    """Both configurations, shipped first."""
    rows = []
    for group in ("", args.group):
        progress(f"group {group!r}: {args.readings} readings at {args.rate:.0f}/s")
        rows.append(await one_run(group, args.readings, args.rate, args.restarts))
    print(machine())
    print(
        table(["group", "acked", "stored", "lost", "restarts", "published/s"], rows),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=800.0)
    parser.add_argument("--restarts", type=int, default=1)
    parser.add_argument("--group", default="ingest", help="the baseline's $share group")
    asyncio.run(main(parser.parse_args()))
