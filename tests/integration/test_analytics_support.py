"""Helpers for the analytics integration tests (no tests here): seeded tenants and findings."""

from __future__ import annotations

from analytics.alerts.models import DeviceRef, Severity
from analytics.detectors.tracker import Signal
from analytics.monitor.pipeline import Finding
from registry import service as registry
from registry.models import Device, Site, Tenant
from servitize.db import Pool

T0 = 1_780_000_000.0
PUMP = DeviceRef("pump-1", "acme", "plant-1", "pump-motor")
OTHER = DeviceRef("pump-9", "globex", None, "pump-motor")


async def seed(pool: Pool) -> None:
    """Two tenants, a site, three devices."""
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(pool, Tenant("acme", "Acme"), [Site("plant-1", "acme", "Plant")])
    await registry.save_tenant(pool, Tenant("globex", "Globex"))
    await registry.register_devices(
        pool,
        [
            Device("pump-1", "pump-motor", "acme", "plant-1"),
            Device("pump-2", "pump-motor", "acme", "plant-1"),
            Device("pump-9", "pump-motor", "globex"),
        ],
    )


def finding(
    rule: str = "rule:bearing_temp_high",
    *,
    first: float = T0,
    last: float | None = None,
    severity: str = "major",
    episodes: int = 1,
    cleared_at: float | None = None,
    value: float = 92.4,
    fired: bool = True,
) -> Finding:
    """A finding as the pipeline would produce it."""
    sig = Signal(
        episodes=episodes,
        first_ts=first if fired else None,
        last_ts=(last if last is not None else first) if fired else None,
        severity=["info", "warning", "major", "critical"].index(severity),
        peak_index=0 if fired else None,
        cleared_at=cleared_at,
        active=cleared_at is None,
        episode_start=first,
    )
    return Finding(
        rule=rule,
        detector=rule.split(":")[0],
        metric="bearing_temp_c",
        severity=Severity(severity),
        signal=sig,
        value=value,
        threshold=85.0,
        score=None,
        sentence=f"bearing_temp_c {value} °C beyond its limit 85 °C",
        evidence={"value": value, "threshold": 85.0},
    )


def clear(rule: str = "rule:bearing_temp_high", at: float = T0 + 600) -> Finding:
    """A finding that only clears the key."""
    return finding(rule, episodes=0, cleared_at=at, fired=False)
