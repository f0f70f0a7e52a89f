"""The firmware side of the fleet runtime: campaign ticks, chunk requests, update reports."""

from __future__ import annotations

import base64
import functools
import json
from datetime import datetime
from typing import TYPE_CHECKING

from fleet import holds, package_service, rollout_service
from fleet.topics import Uplink, UplinkTopic, chunk_topic
from fleet.wire import loads_object
from ingest import service as ingest

if TYPE_CHECKING:
    from fleet.runtime import FleetRuntime


def install(runtime: FleetRuntime) -> None:
    """Add the OTA handlers and the campaign job to a runtime."""
    runtime.handlers[Uplink.OTA_REQUEST] = functools.partial(_on_request, runtime)
    runtime.handlers[Uplink.OTA_STATE] = functools.partial(_on_state, runtime)
    runtime.jobs.append(functools.partial(_campaigns, runtime))


async def _campaigns(runtime: FleetRuntime, now: datetime) -> None:
    pool = runtime.pool

    async def reachable(ids: list[str]) -> set[str]:
        return await ingest.reachable(pool, ids)

    async def held(ids: list[str]) -> set[str]:
        return await holds.critical_alert_devices(pool, ids)

    await rollout_service.tick(pool, now, reachable, held, runtime.config.transfer)


async def _on_request(
    runtime: FleetRuntime, topic: UplinkTopic, payload: bytes, now: datetime
) -> None:
    """Send chunk n of the package the device is targeted for (and only that one)."""
    body = loads_object(payload)
    n, campaign_id = body.get("n"), str(body.get("campaign_id"))
    if not isinstance(n, int):
        raise ValueError("a chunk request needs an integer n")
    package = await rollout_service.targeted_package(runtime.pool, topic.device_id, campaign_id)
    if package is None:
        raise ValueError(f"{topic.device_id} is not targeted by campaign {campaign_id}")
    size = runtime.config.transfer.chunk_bytes
    data = await package_service.chunk(runtime.pool, package, n, size)
    reply = {"campaign_id": campaign_id, "package_id": package["id"], "n": n,
             "total": package_service.chunk_count(package["size"], size),
             "data": base64.b64encode(data).decode()}  # fmt: skip
    await runtime.publish(chunk_topic(topic.device_id), json.dumps(reply).encode())


async def _on_state(
    runtime: FleetRuntime, topic: UplinkTopic, payload: bytes, now: datetime
) -> None:
    body = loads_object(payload)
    await rollout_service.apply_report(runtime.pool, topic.device_id, body, now)
