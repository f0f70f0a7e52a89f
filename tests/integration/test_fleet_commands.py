"""Commands end to end: real Mosquitto, real PostgreSQL, simulated devices."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiomqtt

from fleet import service
from fleet.models import NewCommand, RetryPolicy
from servitize.db import Pool
from servitize.mqtturl import MqttUrl
from simulators.agent import DeviceAgent
from tests.integration.fleet_support import (
    running_device,
    running_fleet,
    running_services,
    states,
)
from tests.integration.ingest_support import eventually, running_ingest, seed


async def _queue(pool: Pool, device_id: str, name: str = "ping", **kw: object) -> str:
    cmd = NewCommand(device_id=device_id, name=name, **kw)  # type: ignore[arg-type]
    return str((await service.queue(pool, cmd, "acme", "test"))["id"])


async def _done(pool: Pool, *ids: str) -> bool:
    return all(s not in ("QUEUED", "SENT", "DELIVERED") for s in await states(pool, *ids))


async def test_round_trip_mqtt5_and_311(pool: Pool, broker_url: str) -> None:
    ids = await seed(pool, 2, prefix="cmd")
    v5, v3 = DeviceAgent(ids[0]), DeviceAgent(ids[1])
    async with (
        running_services(pool, broker_url),
        running_device(broker_url, v5, mqtt5=True),
        running_device(broker_url, v3),
    ):
        a = await _queue(pool, ids[0], "set_valve", params={"open": 40})
        b = await _queue(pool, ids[1], "ping")
        c = await _queue(pool, ids[1], "self_destruct")
        d = await _queue(pool, ids[0], "open_valve", params={"fail": "valve jammed"})
        await eventually(lambda: _done(pool, a, b, c, d))
    assert await states(pool, a, b, c, d) == ["SUCCEEDED", "SUCCEEDED", "REJECTED", "FAILED"]
    detail = await service.get(pool, a, "acme")
    trail = [(e["from_state"], e["to_state"]) for e in detail["events"]]
    assert trail == [(None, "QUEUED"), ("QUEUED", "SENT"), ("SENT", "DELIVERED"),
                     ("DELIVERED", "SUCCEEDED")]  # fmt: skip
    stamps = [e["at"] for e in detail["events"]]
    assert stamps == sorted(stamps)
    assert detail["result"] == {"done": "set_valve", "params": {"open": 40}}
    assert detail["delivered_at"] is not None and detail["finished_at"] >= detail["delivered_at"]
    assert (await service.get(pool, d, None))["reason"] == "valve jammed"
    assert v5.executions == 2 and v3.executions == 1  # rejected commands do not run


async def test_expired_command_is_never_delivered(pool: Pool, broker_url: str) -> None:
    [dev] = await seed(pool, 1, prefix="exp")
    url = MqttUrl.parse(broker_url)
    seen: list[str] = []
    async with aiomqtt.Client(url.host, url.port) as spy, running_services(pool, broker_url):
        await spy.subscribe(f"devices/{dev}/commands/+", qos=1)
        soon = datetime.now(UTC) + timedelta(seconds=1.5)
        stale = await _queue(pool, dev, "open_valve", expires_at=soon)
        await eventually(lambda: _done(pool, stale))
        agent = DeviceAgent(dev)
        async with running_device(broker_url, agent):
            fresh = await _queue(pool, dev, "ping")
            await eventually(lambda: _done(pool, fresh))

        async def listen() -> None:
            async for m in spy.messages:
                seen.append(m.topic.value)

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.5)
        listener.cancel()
    assert await states(pool, stale, fresh) == ["EXPIRED", "SUCCEEDED"]
    assert list(agent.executed) == [fresh]
    assert seen == [f"devices/{dev}/commands/{fresh}"]


async def test_offline_device_gets_queued_commands_in_order(pool: Pool, broker_url: str) -> None:
    [dev] = await seed(pool, 1, prefix="off")
    async with running_services(pool, broker_url):
        queued = [await _queue(pool, dev, "ping", params={"n": i}) for i in range(4)]
        await asyncio.sleep(1.0)
        assert await states(pool, *queued) == ["QUEUED"] * 4  # nothing sent to an absent device
        agent = DeviceAgent(dev)
        async with running_device(broker_url, agent):
            await eventually(lambda: _done(pool, *queued))
    assert await states(pool, *queued) == ["SUCCEEDED"] * 4
    assert list(agent.executed) == queued


async def test_retries_are_bounded_and_survive_a_restart(pool: Pool, broker_url: str) -> None:
    [dev] = await seed(pool, 1, prefix="mute")
    slow = RetryPolicy(base_s=1.0, cap_s=1.0)
    async with running_ingest(pool, broker_url), running_device(broker_url, None, dev):
        cmd = await _queue(pool, dev, "ping", max_attempts=3)
        async with running_fleet(pool, broker_url, retry=slow):
            await eventually(lambda: _attempts(pool, cmd, 1))
        assert await states(pool, cmd) == ["SENT"]
        async with running_fleet(pool, broker_url, retry=slow):
            await eventually(lambda: _done(pool, cmd))
    detail = await service.get(pool, cmd, None)
    assert (detail["state"], detail["attempts"], detail["reason"]) == ("TIMED_OUT", 3, "no receipt")
    sends = [e for e in detail["events"] if e["to_state"] == "SENT"]
    assert [e["detail"]["attempts"] for e in sends] == [1, 2, 3]


async def _attempts(pool: Pool, cmd: str, n: int) -> bool:
    return int((await service.get(pool, cmd, None))["attempts"]) >= n


async def test_resend_after_lost_reply_runs_once(pool: Pool, broker_url: str) -> None:
    [dev] = await seed(pool, 1, prefix="flaky")
    agent = DeviceAgent(dev, drop_replies=2)
    async with running_services(pool, broker_url), running_device(broker_url, agent):
        cmd = await _queue(pool, dev, "set_valve", params={"open": 10})
        await eventually(lambda: _done(pool, cmd))
    detail = await service.get(pool, cmd, None)
    assert (detail["state"], detail["attempts"]) == ("SUCCEEDED", 3)
    assert agent.executions == 1  # the same command id is not run again


async def test_mqtt5_properties_are_set(pool: Pool, broker_url: str) -> None:
    [dev] = await seed(pool, 1, prefix="props")
    url = MqttUrl.parse(broker_url)
    v5 = aiomqtt.ProtocolVersion.V5
    async with aiomqtt.Client(url.host, url.port, protocol=v5) as spy:
        await spy.subscribe(f"devices/{dev}/commands/+", qos=1)
        async with running_services(pool, broker_url), running_device(broker_url, DeviceAgent(dev)):
            soon = datetime.now(UTC) + timedelta(seconds=120)
            cmd = await _queue(pool, dev, "ping", expires_at=soon)
            message = await asyncio.wait_for(anext(aiter(spy.messages)), 15)
    props = message.properties
    assert props is not None and message.qos == 1
    assert getattr(props, "CorrelationData", None) == cmd.encode()
    assert getattr(props, "ResponseTopic", None) == f"devices/{dev}/replies/{cmd}"
    assert 100 <= getattr(props, "MessageExpiryInterval", 0) <= 120
