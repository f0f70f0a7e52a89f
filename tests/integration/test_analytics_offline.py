"""Offline alerts through real ingest (MQTT broker, status topic, telemetry) and the detector."""

from __future__ import annotations

from datetime import UTC, datetime

from analytics.alerts import service
from analytics.alerts.models import AlertFilter
from analytics.monitor.detect import Detector
from servitize.db import Pool
from tests.integration.ingest_support import eventually, publish, reading, running_ingest, seed


async def _offline_state(pool: Pool, device: str) -> str | None:
    items, _ = await service.list_alerts(pool, AlertFilter(device_id=device, limit=10))
    states = [a["state"] for a in items if a["rule"] == "offline"]
    return states[0] if states else None


async def test_offline_alert_clears_when_the_device_is_back_sending_telemetry(
    pool: Pool, broker_url: str
) -> None:
    [dev] = await seed(pool, 1, prefix="back")
    det = Detector(pool)
    await det.start()
    now = datetime.now(UTC)
    async with running_ingest(pool, broker_url):
        await publish(broker_url, [(f"devices/{dev}/telemetry", reading(0, base=now))])
        await publish(broker_url, [(f"devices/{dev}/status", b"offline")])  # its Last Will

        async def raised() -> bool:
            await det.check_offline()
            return await _offline_state(pool, dev) == "active_unacknowledged"

        await eventually(raised)
        # back: it reconnects and sends telemetry (no "online" status message)
        await publish(broker_url, [(f"devices/{dev}/telemetry", reading(5, base=now))])

        async def cleared() -> bool:
            await det.check_offline()
            return await _offline_state(pool, dev) == "cleared_unacknowledged"

        await eventually(cleared)
    async with pool.acquire() as conn:
        presence = await conn.fetchval(
            "SELECT presence FROM device_presence WHERE device_id = $1", dev
        )
    assert presence == "online"
