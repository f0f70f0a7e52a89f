"""Simulator use cases that touch the registry: register a fleet, run the live demo fleet."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from registry import service as registry
from servitize.db import Pool
from simulators import faults as fault_profiles
from simulators.agent import DeviceAgent
from simulators.faults import FaultPlanner
from simulators.fleet import Fleet, fleet
from simulators.labels import RunInfo, write_labels
from simulators.models import Fault
from simulators.realtime import RealtimeResult, run_realtime


async def register_fleet(pool: Pool, sim_fleet: Fleet) -> dict[str, str]:
    """Register the built-in types, the fleet's tenants, sites and devices; returns passwords."""
    await registry.ensure_builtin_types(pool)
    for tenant in sim_fleet.tenants:
        await registry.save_tenant(pool, tenant, sim_fleet.sites_of(tenant.id))
    return await registry.register_devices(pool, sim_fleet.registry_devices())


def registration_commands(sim_fleet: Fleet) -> list[str]:
    """`servitize registry ...` commands that register the fleet by hand."""
    lines = ["servitize registry seed-types"]
    lines += [f"servitize registry add-tenant {t.id} --name '{t.name}'" for t in sim_fleet.tenants]
    # `registry add-device --site` needs the site row, which no command creates yet.
    lines += ["# sites are created when simulate runs with SERVITIZE_DATABASE_URL set"]
    lines += [
        f"servitize registry add-device {d.id} --type {d.type_id} --tenant {d.tenant_id}"
        for d in sim_fleet.devices
    ]
    return lines


async def run_demo_fleet(
    pool: Pool | None,
    mqtt_url: str,
    stop_event: asyncio.Event,
    *,
    fleet_name: str = "demo",
    seed: int = 1,
    speedup: float = 60.0,
    faults: str = "demo",
    labels_path: Path | None = None,
    passwords: dict[str, str] | None = None,
    agents: Callable[[str], DeviceAgent] | None = None,
) -> RealtimeResult:
    """Register the demo fleet (when a pool is given) and run it live until stop_event is set.

    With `passwords` (the fleet was registered already, e.g. before ingest started) it is
    not registered again.

    Each device is its own MQTT client (username = device id, Last Will `offline`); with
    speedup 60 an hour of device life passes per minute and faults come every few minutes.
    """
    sim_fleet = fleet(fleet_name, seed)
    if passwords is None and pool is not None:
        passwords = await register_fleet(pool, sim_fleet)
    profile = fault_profiles.profile(faults)
    now = int(time.time() * 1000)
    planner = FaultPlanner(profile, now)

    def save(labels: list[Fault]) -> None:
        if labels_path is not None:
            info = RunInfo(sim_fleet.name, seed, "realtime", profile.name, now, now, speedup)
            write_labels(labels_path, info, labels)

    return await run_realtime(
        sim_fleet, mqtt_url, planner, stop_event, passwords=passwords, speedup=speedup,
        on_labels=save, start_ms=now, agents=agents,
    )  # fmt: skip
