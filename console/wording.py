"""Alert headlines for people: the device and site by name and the metric by the catalog's
description, in front of the detector's sentence (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Names:
    """What a headline needs: device (name, site id, type), site names, metric descriptions."""

    devices: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)
    sites: dict[str, str] = field(default_factory=dict)
    metrics: dict[tuple[str, str], str] = field(default_factory=dict)


def headline(alert: dict[str, Any], names: Names) -> str:
    """e.g. 'Robot 1 (acme-r1) at North yard: drive motor winding temperature 97 °C beyond ...'."""
    device_id, metric, text = alert["device_id"], alert.get("metric"), alert.get("sentence") or ""
    name, site_id, dtype = names.devices.get(device_id, ("", alert.get("site_id"), ""))
    who = f"{name} ({device_id})" if name and name != device_id else device_id
    site_id = alert.get("site_id") or site_id
    where = f" at {names.sites.get(site_id, site_id)}" if site_id else ""
    described = names.metrics.get((dtype, metric or ""))
    if metric and described and text.startswith(metric):
        text = described + text[len(metric) :]
    return f"{who}{where}: {text}" if text else f"{who}{where}"
