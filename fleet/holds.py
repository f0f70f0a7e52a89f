"""Safety holds: devices that must not be updated now (an active critical alert).

Alerts are read through the alerts service (analytics.alerts.service).
"""

from __future__ import annotations

from analytics.alerts import service as alerts
from analytics.alerts.models import AlertFilter
from servitize.db import Pool


async def critical_alert_devices(pool: Pool, device_ids: list[str]) -> set[str]:
    """Of these devices, those with an active critical alert (a slope station in red)."""
    held: set[str] = set()
    for device_id in device_ids:
        f = AlertFilter(device_id=device_id, severity="critical", state="active", limit=1)
        items, _ = await alerts.list_alerts(pool, f)
        if items:
            held.add(device_id)
    return held
