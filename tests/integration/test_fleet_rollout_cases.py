"""Rollouts meeting the real world: offline devices, safety holds, cut downloads, restarts."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiomqtt

from fleet import campaign_service
from registry import service as registry
from registry.models import Device
from servitize.db import Pool
from servitize.mqtturl import MqttUrl
from simulators.agent import DeviceAgent
from tests.integration.fleet_support import (
    running_device,
    running_devices,
    running_fleet,
    running_services,
)
from tests.integration.ingest_support import eventually, running_ingest, seed
from tests.integration.test_fleet_campaigns import PUBLIC, _package, _spec


async def _states(pool: Pool) -> dict[str, str]:
    c = await campaign_service.get(pool, "c1", None)
    return {u["device_id"]: u["state"] for u in c["updates"]}


async def _campaign_state(pool: Pool) -> str:
    return str((await campaign_service.get(pool, "c1", None))["state"])


async def test_offline_device_in_its_wave_is_updated_on_return(pool: Pool, broker_url: str) -> None:
    ids = await seed(pool, 3, prefix="late")
    agents = [DeviceAgent(i, public_key=PUBLIC, reboot_s=0.3) for i in ids]
    package = await _package(pool)
    async with running_services(pool, broker_url), running_devices(broker_url, agents[:2]):
        await campaign_service.create(pool, _spec(package["id"], waves=[100]), "test")

        async def two_done() -> bool:
            return list((await _states(pool)).values()).count("UPDATED") == 2

        await eventually(two_done, within=60)
        await asyncio.sleep(1.0)
        assert (await _states(pool))[ids[2]] == "QUEUED"
        assert await _campaign_state(pool) == "RUNNING"  # the wave waits for its device
        async with running_device(broker_url, agents[2]):
            await eventually(lambda: _is(pool, "SUCCEEDED"), within=60)
    assert agents[2].version == "2.0.0"


async def _is(pool: Pool, state: str) -> bool:
    return await _campaign_state(pool) == state


async def test_active_critical_alert_holds_the_device(pool: Pool, broker_url: str) -> None:
    ids = await seed(pool, 2, prefix="slope")
    async with pool.acquire() as conn:
        alert = await conn.fetchval(
            """INSERT INTO alerts (tenant_id, device_id, rule, detector, severity, first_ts,
                                   last_ts)
               VALUES ('acme', $1, 'rule:red', 'threshold', 'critical', now(), now())
               RETURNING id""",
            ids[0],
        )
    agents = [DeviceAgent(i, public_key=PUBLIC, reboot_s=0.3) for i in ids]
    package = await _package(pool)
    async with running_services(pool, broker_url), running_devices(broker_url, agents):
        await campaign_service.create(pool, _spec(package["id"], canary=2, waves=[100]), "test")
        await eventually(lambda: _one_updated(pool, ids[1]), within=60)
        await asyncio.sleep(1.0)
        c = await campaign_service.get(pool, "c1", None)
        held = next(u for u in c["updates"] if u["device_id"] == ids[0])
        assert (held["state"], held["reason"]) == ("QUEUED", "held: critical alert")
        assert agents[0].version == "1.0.0"
        async with pool.acquire() as conn:  # the warning is over
            await conn.execute("UPDATE alerts SET active = false WHERE id = $1", alert)
        await eventually(lambda: _is(pool, "SUCCEEDED"), within=60)
    assert agents[0].version == "2.0.0"


async def _one_updated(pool: Pool, device_id: str) -> bool:
    return (await _states(pool)).get(device_id) == "UPDATED"


async def test_download_resumes_from_first_missing_chunk(pool: Pool, broker_url: str) -> None:
    [dev] = await seed(pool, 1, prefix="cut")
    agent = DeviceAgent(dev, public_key=PUBLIC, reboot_s=0.3, cut_download_after=2)
    package = await _package(pool)
    url = MqttUrl.parse(broker_url)
    asked: list[int] = []
    async with aiomqtt.Client(url.host, url.port) as spy:
        await spy.subscribe(f"devices/{dev}/ota/request", qos=1)

        async def listen() -> None:
            async for m in spy.messages:
                assert isinstance(m.payload, bytes)
                asked.append(json.loads(m.payload)["n"])

        listener = asyncio.create_task(listen())
        async with running_services(pool, broker_url), running_devices(broker_url, [agent]):
            await campaign_service.create(pool, _spec(package["id"], waves=[100]), "test")
            await eventually(lambda: _is(pool, "SUCCEEDED"), within=60)
        await asyncio.sleep(0.3)
        listener.cancel()
    assert asked == [0, 1, 2, 3, 4]  # chunks 0 and 1 were not fetched again
    assert agent.version == "2.0.0"


async def test_restart_mid_campaign_loses_and_repeats_nothing(pool: Pool, broker_url: str) -> None:
    ids = await seed(pool, 4, prefix="rst")
    agents = [DeviceAgent(i, public_key=PUBLIC, reboot_s=0.3) for i in ids]
    package = await _package(pool)
    async with running_ingest(pool, broker_url), running_devices(broker_url, agents):
        await campaign_service.create(pool, _spec(package["id"]), "test")
        async with running_fleet(pool, broker_url, client_id="fleet-restart"):
            await eventually(lambda: _one_updated(pool, ids[0]), within=60)
        mid = await _states(pool)
        async with running_fleet(pool, broker_url, client_id="fleet-restart"):
            await eventually(lambda: _is(pool, "SUCCEEDED"), within=60)
    assert mid[ids[0]] == "UPDATED" and "QUEUED" in mid.values()
    assert [a.executions for a in agents] == [1, 1, 1, 1]  # each notified exactly once
    async with pool.acquire() as conn:
        updated = await conn.fetchval(
            "SELECT count(*) FROM fleet_events WHERE subject = 'update' AND to_state = 'UPDATED'"
        )
        commands = await conn.fetchval("SELECT count(*) FROM fleet_commands")
    assert (updated, commands) == (4, 4)


async def test_window_and_continuous_campaign(pool: Pool, broker_url: str) -> None:
    ids = await seed(pool, 1, prefix="cont")
    agents = [DeviceAgent(ids[0], public_key=PUBLIC, reboot_s=0.3)]
    package = await _package(pool)
    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))  # acme's zone
    later = {"window_start": (local + timedelta(hours=2)).time().replace(microsecond=0),
             "window_end": (local + timedelta(hours=3)).time().replace(microsecond=0)}  # fmt: skip
    async with running_services(pool, broker_url), running_devices(broker_url, agents):
        closed = _spec(package["id"], id="night", waves=[100], **later)
        await campaign_service.create(pool, closed, "test")
        await campaign_service.create(pool, _spec(package["id"], waves=[100], continuous=True), "t")
        await eventually(lambda: _one_updated(pool, ids[0]), within=60)
        await registry.register_devices(pool, [Device("cont-new", "pump-motor", "acme")])
        newcomer = DeviceAgent("cont-new", public_key=PUBLIC, reboot_s=0.3)
        async with running_device(broker_url, newcomer):
            await eventually(lambda: _one_updated(pool, "cont-new"), within=60)
        night = await campaign_service.get(pool, "night", None)
    assert await _campaign_state(pool) == "RUNNING"  # continuous: waits for more devices
    assert newcomer.version == "2.0.0"
    assert [u["state"] for u in night["updates"]] == ["QUEUED"]  # outside its window
