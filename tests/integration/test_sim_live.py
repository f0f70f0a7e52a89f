"""The live demo fleet (registered, one client per device) and the multiplexed fleet-scale mode."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from registry import service as registry
from servitize.db import Pool
from simulators.faults import NONE, FaultPlanner
from simulators.fleet import fleet
from simulators.live import run_fleet_live
from simulators.service import run_demo_fleet
from tests import services
from tests.integration.test_sim_support import capture


async def test_demo_fleet_registers_and_streams(
    pool: Pool, broker_url: str, tmp_path: Path
) -> None:
    demo = fleet("demo", seed=3)
    stop = asyncio.Event()
    labels = tmp_path / "labels.json"
    async with capture(broker_url, "devices/#") as cap:
        task = asyncio.create_task(
            run_demo_fleet(pool, broker_url, stop, seed=3, speedup=120, labels_path=labels)
        )

        def everyone_reported() -> bool:
            return all(cap.readings(d.id) for d in demo.devices)

        await cap.until(everyone_reported)
        stop.set()
        result = await asyncio.wait_for(task, 20)
    async with pool.acquire() as conn:
        known = (await registry.snapshot(conn)).devices
    assert {d.id for d in demo.devices} <= set(known)
    # Live statuses only: a retained one is another test's device, left on the shared broker.
    online = {
        t.split("/")[1]
        for t, p, retained in cap.messages
        if t.endswith("/status") and p == b"online" and not retained
    }
    assert online == {d.id for d in demo.devices}
    assert set(result.clients) == online
    assert json.loads(labels.read_text())["mode"] == "realtime"


async def test_fleet_scale_mode_multiplexes_many_devices(broker_url: str) -> None:
    services.require_mosquitto("drops multiplexed high-rate publishers")
    many = fleet("scale:200", seed=9)
    stop = asyncio.Event()
    planner = FaultPlanner(NONE, 0)
    async with capture(broker_url, "devices/+/telemetry") as cap:
        # At 60x a 10 s device reports six times a second; 200 devices share two connections.
        run = asyncio.create_task(
            run_fleet_live(many, broker_url, planner, stop, speedup=60, connections=2)
        )
        await cap.until(lambda: len({t for t, _, _ in cap.messages}) == len(many.devices))
        stop.set()
        stats = await asyncio.wait_for(run, 20)
    assert stats.messages >= len(many.devices)
    first = json.loads(cap.messages[0][1])
    assert set(first) == {"ts", "seq", "metrics"}  # live devices send one reading per message
