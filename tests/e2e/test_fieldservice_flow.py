"""End to end: a fault code over real MQTT -> ingest -> detect -> alert -> automatic work order
-> assigned -> accepted late -> parts and time -> completed -> invoice lines and credits to the
fen -> service report."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.monitor.detect import run_detector
from fieldservice import clock
from servitize.db import Pool
from tests.integration.ingest_support import eventually, publish, running_ingest
from tests.integration.test_api_support import client, seed
from tests.integration.test_fieldservice_support import (
    WO,
    check_invoice,
    do_the_work,
    move,
    ok,
    setup,
    sh,
)


async def test_fault_over_mqtt_ends_on_the_invoice(pool: Pool, broker_url: str) -> None:
    world = await seed(pool)
    async with client(pool) as c:
        await setup(c, world)
        op = world.headers("operator")
        with clock.frozen_at(sh(18, 16)):
            found = await _fault_to_work_order(pool, broker_url, c, op)
            assert found["source"] == "policy" and found["device_id"] == "acme-r1"
            clock.set_to(sh(22, 9))
            await move(c, op, found["id"], to="qualified")
            await move(c, op, found["id"], to="assigned", technician_id="li")
            await do_the_work(c, world, found["id"])
            pdf = await c.get(f"{WO}/{found['id']}/report.pdf", headers=op)
            assert pdf.content.startswith(b"%PDF")
        await check_invoice(c, world, found["number"])


async def _fault_to_work_order(pool: Pool, broker: str, c: Any, op: dict[str, str]) -> Any:
    stop = asyncio.Event()
    detector = asyncio.create_task(run_detector(pool, stop))
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    fault = {"ts": base.isoformat(), "type": "fault_code", "code": "E42", "severity": "critical"}
    try:
        async with running_ingest(pool, broker):
            await asyncio.sleep(0.3)  # the detector's checkpoint starts after existing batches
            await publish(broker, [("devices/acme-r1/events", fault)])

            async def opened() -> bool:
                page = await ok(await c.get(WO, headers=op))
                return len(page["items"]) == 1

            await eventually(opened, within=20)
    finally:
        stop.set()
        await asyncio.wait_for(detector, 10)
    page = await ok(await c.get(WO, headers=op))
    detail = await ok(await c.get(f"{WO}/{page['items'][0]['id']}", headers=op))
    assert len(detail["alert_ids"]) == 1
    return detail
