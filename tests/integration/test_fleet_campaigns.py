"""Campaigns end to end on simulated devices: real Mosquitto, real PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

from fleet import campaign_service, package_service, signing
from servitize.db import Pool
from simulators.agent import DeviceAgent
from tests.integration.fleet_support import running_devices, running_services
from tests.integration.ingest_support import eventually, seed

KEY = signing.new_key()
PUBLIC = signing.load_public(signing.public_pem(KEY))
CONTENT = os.urandom(5000)  # five 1 KiB chunks


async def _package(pool: Pool, version: str = "2.0.0") -> dict[str, Any]:
    return await package_service.upload(
        pool, "pump-motor", version, CONTENT, key=KEY, max_bytes=10_000, actor="test"
    )


def _spec(package_id: str, **kw: Any) -> dict[str, Any]:
    spec = {
        "id": "c1", "name": "Pump firmware 2.0", "package_id": package_id, "tenant_id": None,
        "site_id": None, "canary": 1, "waves": [50, 100], "success_pct": 100.0,
        "abort_failure_pct": 50.0, "min_finished": 2, "rate_per_min": 100, "timeout_s": 30,
    }  # fmt: skip
    return spec | kw


async def _finished(pool: Pool) -> bool:
    c = await campaign_service.get(pool, "c1", None)
    return c["state"] not in ("RUNNING",)


async def _trail(pool: Pool) -> list[tuple[str | None, str]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT from_state, to_state FROM fleet_events WHERE subject = 'campaign' ORDER BY id"
        )
    return [(r["from_state"], r["to_state"]) for r in rows]


async def test_canary_then_waves_then_done(pool: Pool, broker_url: str) -> None:
    ids = await seed(pool, 4, prefix="upd")
    agents = [DeviceAgent(i, public_key=PUBLIC, reboot_s=0.3) for i in ids]
    package = await _package(pool)
    async with running_services(pool, broker_url), running_devices(broker_url, agents):
        created = await campaign_service.create(pool, _spec(package["id"]), "test")
        assert [u["stage"] for u in created["updates"]] == [0, 1, 2, 2]
        await eventually(lambda: _finished(pool), within=60)
    c = await campaign_service.get(pool, "c1", None)
    assert (c["state"], c["counts"]) == ("SUCCEEDED", {"UPDATED": 4})
    assert [a.version for a in agents] == ["2.0.0"] * 4
    starts = sorted((u["started_at"], u["stage"]) for u in c["updates"])
    assert [s for _, s in starts] == [0, 1, 2, 2]  # no wave started before the one before it
    async with pool.acquire() as conn:
        trail = await conn.fetch(
            """SELECT to_state FROM fleet_events WHERE subject = 'update'
               AND subject_id = $1 ORDER BY id""",
            f"c1:{ids[0]}",
        )
    assert [r["to_state"] for r in trail] == ["NOTIFIED", "DOWNLOADING", "DOWNLOADING",
        "DOWNLOADING", "DOWNLOADING", "DOWNLOADING", "DOWNLOADED", "VERIFIED", "INSTALLING",
        "REBOOTING", "UPDATED"]  # fmt: skip
    assert await _trail(pool) == [(None, "RUNNING"), ("RUNNING", "SUCCEEDED")]
    async with pool.acquire() as conn:
        params = await conn.fetchval("SELECT params FROM fleet_commands LIMIT 1")
    assert params["sha256"] == package["sha256"] and params["chunks"] == 5
    assert params["download"]["path"].startswith("/api/v1/fleet/downloads/")


async def test_abort_threshold_fires_after_minimum_finished(pool: Pool, broker_url: str) -> None:
    ids = await seed(pool, 6, prefix="bad")
    agents = [DeviceAgent(i, public_key=PUBLIC, reboot_s=0.3, fails_install=True) for i in ids]
    package = await _package(pool)
    async with running_services(pool, broker_url), running_devices(broker_url, agents):
        await campaign_service.create(pool, _spec(package["id"], canary=2), "test")
        await eventually(lambda: _finished(pool), within=60)
    c = await campaign_service.get(pool, "c1", None)
    assert c["state"] == "ABORTED" and "2 of 2 finished devices failed" in c["reason"]
    assert c["counts"] == {"ROLLED_BACK": 2, "CANCELED": 4}
    assert [a.version for a in agents] == ["1.0.0"] * 6


async def test_tampered_package_is_refused_and_reported(pool: Pool, broker_url: str) -> None:
    [dev] = await seed(pool, 1, prefix="tamper")
    agent = DeviceAgent(dev, public_key=PUBLIC, reboot_s=0.3)
    package = await _package(pool)
    async with pool.acquire() as conn:  # the stored bytes change after signing
        await conn.execute(
            "UPDATE fleet_blobs SET content = overlay(content PLACING '\\x00' FROM 9)"
        )
    async with running_services(pool, broker_url), running_devices(broker_url, [agent]):
        await campaign_service.create(pool, _spec(package["id"], min_finished=5), "test")
        await eventually(lambda: _finished(pool), within=60)
    c = await campaign_service.get(pool, "c1", None)
    [update] = c["updates"]
    assert (update["state"], update["reason"]) == ("FAILED", "package refused: hash mismatch")
    assert c["state"] == "WAITING_APPROVAL" and agent.version == "1.0.0"
