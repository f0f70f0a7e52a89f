"""End to end: MQTT -> ingest -> detect -> alert, in device time, with the real broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from analytics.alerts import service
from analytics.alerts.models import AlertFilter
from analytics.monitor.detect import run_detector
from servitize.db import Pool
from tests.integration.ingest_support import eventually, publish, running_ingest, seed


async def test_readings_and_fault_codes_become_alerts(pool: Pool, broker_url: str) -> None:
    devices = await seed(pool, n=2)
    stop = asyncio.Event()
    detector = asyncio.create_task(run_detector(pool, stop))
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    try:
        async with running_ingest(pool, broker_url):
            await asyncio.sleep(0.3)  # the detector's checkpoint starts after existing batches
            hot = [
                {"ts": (base + timedelta(seconds=10 * i)).isoformat(),
                 "metrics": {"bearing_temp_c": 60.0 if i < 20 else 97.0}}
                for i in range(40)
            ]  # fmt: skip
            fault = {"ts": (base + timedelta(seconds=5)).isoformat(), "type": "fault_code",
                     "code": "P310", "severity": "critical"}  # fmt: skip
            await publish(
                broker_url,
                [
                    (f"devices/{devices[0]}/telemetry", {"readings": hot}),
                    (f"devices/{devices[1]}/events", fault),
                ],
            )

            async def both() -> bool:
                items, _ = await service.list_alerts(pool, AlertFilter())
                return {(a["device_id"], a["rule"]) for a in items} >= {
                    (devices[0], "rule:bearing_temp_trip"),
                    (devices[1], "fault:P310"),
                }

            await eventually(both, within=20)
    finally:
        stop.set()
        await asyncio.wait_for(detector, 10)
    items, _ = await service.list_alerts(pool, AlertFilter())
    trip = next(a for a in items if a["rule"] == "rule:bearing_temp_trip")
    # 97 °C from reading 20 on, held 30 s: evidence starts at reading 23, in device time.
    assert trip["first_ts"] == base + timedelta(seconds=230) and trip["severity"] == "critical"
    fault = next(a for a in items if a["rule"] == "fault:P310")
    assert fault["first_ts"] == base + timedelta(seconds=5)
