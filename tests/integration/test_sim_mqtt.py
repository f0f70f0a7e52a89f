"""Real-time devices against a real broker: Last Will, comm loss, store-and-forward."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import time
import uuid
from pathlib import Path

import pytest

from servitize.infra import free_port
from servitize.mqtturl import MqttUrl
from simulators.device_client import DeviceClient
from simulators.faults import NONE, FaultPlanner
from simulators.fleet import Fleet, fleet
from simulators.models import Fault, FaultKind
from simulators.realtime import Timeline, feed_device, run_realtime
from simulators.stream import DeviceStream
from tests import services
from tests.integration.test_sim_support import capture, persistence_dir, persistent_broker


def _one_device(type_id: str) -> Fleet:
    small = fleet("small", seed=7)
    spec = next(d for d in small.devices if d.type_id == type_id)
    spec = dataclasses.replace(spec, id=f"{spec.id}-{uuid.uuid4().hex[:6]}")
    return Fleet("one", small.tenants, small.sites, (spec,))


async def test_last_will_reaches_the_broker_when_a_device_dies(broker_url: str) -> None:
    services.require_mosquitto("does not publish a retained Last Will reliably")
    device_id = f"sim-will-{uuid.uuid4().hex[:8]}"
    status = f"devices/{device_id}/status"
    # A long backoff keeps the dead device from coming back during the test.
    client = DeviceClient(device_id, MqttUrl.parse(broker_url), backoff_s=(30.0, 30.0))
    stop = asyncio.Event()
    async with capture(broker_url, status) as cap:
        task = asyncio.create_task(client.run(stop))
        await cap.until(lambda: cap.payloads(status) == [b"online"])
        client.crash()  # the socket closes without an MQTT DISCONNECT
        await cap.until(lambda: cap.payloads(status) == [b"online", b"offline"])
        assert not task.done()  # the device did not say goodbye: the broker sent its Will
        stop.set()
        await asyncio.wait_for(task, 10)
    async with capture(broker_url, status) as late:  # a newcomer sees the retained Will
        await late.until(lambda: late.payloads(status) == [b"offline"])
        assert late.messages[0][2] is True


async def test_comm_loss_fault_sends_the_will_then_comes_back(broker_url: str) -> None:
    one = _one_device("bridge-monitor")
    spec = one.devices[0]
    now = int(time.time() * 1000)
    # At 120x a model minute passes in half a second: silent from +2 to +6 model minutes.
    loss = Fault(spec.id, FaultKind.COMM_LOSS, (), now + 120_000, now + 360_000)
    planner = FaultPlanner(NONE, now, [loss])
    status = f"devices/{spec.id}/status"
    stop = asyncio.Event()
    async with capture(broker_url, f"devices/{spec.id}/#") as cap:
        run = asyncio.create_task(
            run_realtime(one, broker_url, planner, stop, speedup=120, start_ms=now,
                         client_options={"backoff_s": (0.1, 0.5)})
        )  # fmt: skip
        await cap.until(lambda: cap.payloads(status)[-3:] == [b"online", b"offline", b"online"])
        await cap.until(lambda: len(cap.readings(spec.id)) >= 12)
        stop.set()
        result = await asyncio.wait_for(run, 10)
    timeline = Timeline(now, now, 120)
    wall = timeline.fault(loss)
    stamps = [r["ts"] for r in cap.readings(spec.id)]
    # A reading just before the loss may round onto its first wall millisecond.
    assert not [t for t in stamps if wall.start_ms < t < wall.end_ms]
    assert min(stamps) < wall.start_ms and max(stamps) >= wall.end_ms
    assert result.faults == [wall]


@pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs Mosquitto")
async def test_store_and_forward_delivers_everything_after_a_broker_outage() -> None:
    with persistence_dir() as data:
        await _outage(data)


async def _outage(data: Path) -> None:
    port = free_port()
    broker = persistent_broker(data, port)
    url = f"mqtt://127.0.0.1:{port}"
    spec = _one_device("bridge-monitor").devices[0]
    now = int(time.time() * 1000)
    stream = DeviceStream(spec, now, FaultPlanner(NONE, now))
    client = DeviceClient(spec.id, MqttUrl.parse(url), backoff_s=(0.1, 0.5))
    stop = asyncio.Event()
    topic = f"devices/{spec.id}/telemetry"
    try:
        # A persistent session: the broker keeps what the device sends before we are back.
        async with capture(url, topic, identifier=f"sf-{spec.id}", persistent=True) as cap:
            tasks = [
                asyncio.create_task(client.run(stop)),
                # 30 s readings at 300x: one every 100 ms of wall time.
                asyncio.create_task(feed_device(stream, client, Timeline(now, now, 300), stop)),
            ]
            await cap.until(lambda: len(cap.readings(spec.id)) >= 5)
            broker.stop()
            assert (data / "mosquitto.db").exists()  # the session survives the restart
            await asyncio.sleep(2.0)
            assert len(client.buffer) >= 10  # readings pile up while the broker is away
            broker = persistent_broker(data, port)
            await asyncio.wait_for(client.connected.wait(), 30)
            await cap.until(lambda: len(client.buffer) == 0)
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 20)
            sent = client.stats.readings_sent
            await cap.until(lambda: len({r["seq"] for r in cap.readings(spec.id)}) >= sent)
    finally:
        broker.stop()
    assert {r["seq"] for r in cap.readings(spec.id)} == set(range(sent))
    assert client.stats.batches_sent >= 1 and client.stats.connects == 2
    batches = [json.loads(p)["readings"] for p in cap.payloads(topic) if b'"readings"' in p]
    assert max(len(b) for b in batches) >= 10  # the backlog went out as batch messages
