"""The fleet part of `servitize demo`: the runtime plus a small campaign to watch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from fleet import campaign_service, package_service
from fleet.download import download_secret
from fleet.models import Transfer
from fleet.runtime import FleetConfig, FleetRuntime
from fleet.service import Conflict
from fleet.signing import load_private
from servitize.db import Pool
from servitize.mqtturl import MqttUrl
from servitize.settings import Settings

log = logging.getLogger(__name__)
DEMO_TYPE, DEMO_VERSION, CAMPAIGN = "pump-motor", "2.0.0-demo", "demo-pump-upgrade"
# Long enough for the simulated devices to connect (and ingest to see them online).
START_AFTER_S = 20.0


async def run_fleet_demo(
    pool: Pool, settings: Settings, mqtt_url: str, stop: asyncio.Event, notes: list[str]
) -> None:
    """Run the fleet runtime; after a short pause upload a package and start a campaign."""
    config = FleetConfig(
        mqtt=MqttUrl.parse(mqtt_url), client_id=settings.fleet_client_id,
        transfer=Transfer(download_secret=download_secret(settings)),
    )  # fmt: skip
    runtime = asyncio.create_task(FleetRuntime(pool, config).run(stop))
    notes.append(
        f"Firmware:      campaign {CAMPAIGN} starts in {START_AFTER_S:.0f} s: "
        f"GET /api/v1/fleet/campaigns/{CAMPAIGN} (or `servitize fleet status {CAMPAIGN}`)"
    )
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), START_AFTER_S)
    if not stop.is_set():
        await _start_campaign(pool, settings)
    await runtime


async def _start_campaign(pool: Pool, settings: Settings) -> None:
    assert settings.fleet_signing_key is not None
    key = load_private(settings.fleet_signing_key)
    with contextlib.suppress(Conflict):  # kept from an earlier demo run
        await package_service.upload(
            pool, DEMO_TYPE, DEMO_VERSION, os.urandom(256 * 1024), key=key,
            max_bytes=settings.fleet_max_package_bytes, actor="demo",
        )  # fmt: skip
    spec = {
        "id": CAMPAIGN, "name": "Pump controller 2.0 (demo)",
        "package_id": package_service.package_id(DEMO_TYPE, DEMO_VERSION),
        "tenant_id": None, "site_id": None, "canary": 1, "waves": [50, 100],
        "success_pct": 80.0, "abort_failure_pct": 50.0, "min_finished": 3, "rate_per_min": 30,
        "timeout_s": 300,
    }  # fmt: skip
    try:
        await campaign_service.create(pool, spec, "demo")
    except (Conflict, ValueError) as exc:
        log.info("demo campaign not started: %s", exc)
