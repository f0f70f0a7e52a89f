"""Broker identity with the shipped Mosquitto configuration and the generated auth files."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiomqtt
import pytest

from ingest.service import IngestConfig, IngestService
from registry import service as registry
from registry.models import Device, Tenant
from servitize.db import ConfigError, Pool
from servitize.infra import mosquitto_binary
from servitize.settings import Settings
from tests import services
from tests.deploy_broker import DeployBroker
from tests.integration.ingest_support import count, eventually, reading

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="Mosquitto is not installed")

SECRET = "ingest-secret"


async def _fleet(pool: Pool, broker: DeployBroker) -> dict[str, str]:
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(pool, Tenant("acme", "Acme"))
    devices = [Device(i, "pump-motor", "acme") for i in ("pump-a", "pump-b")]
    passwords = await registry.register_devices(pool, devices)
    await broker.write_auth(pool, {"ingest": SECRET, "ingest-2": SECRET})
    broker.start()
    return passwords


def _client(broker: DeployBroker, user: str, password: str, **kw: Any) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", broker.port, username=user, password=password, **kw)


async def _drain(client: aiomqtt.Client, quiet_s: float) -> list[str]:
    """'topic payload' of each message until none arrives for quiet_s."""
    seen: list[str] = []
    try:
        while True:
            async with asyncio.timeout(quiet_s):
                message = await anext(aiter(client.messages))
            payload = message.payload if isinstance(message.payload, bytes) else b""
            seen.append(f"{message.topic.value} {payload.decode()}")
    except TimeoutError:
        return seen


async def test_a_device_cannot_take_over_ingest_or_another_device(pool: Pool) -> None:
    broker = DeployBroker(services.WORK)
    pw = await _fleet(pool, broker)
    try:
        async with _client(
            broker, "ingest", SECRET, identifier="ingest", clean_session=False
        ) as svc:
            await svc.subscribe("devices/+/telemetry", qos=1)
            await svc.subscribe("devices/+/status", qos=1)
            will = aiomqtt.Will("devices/pump-b/status", b"offline", qos=1)
            async with _client(broker, "pump-b", pw["pump-b"], identifier="pump-b", will=will) as b:
                # pump-a claims ingest's client id, then pump-b's; the broker uses "pump-a".
                for stolen in ("ingest", "pump-b"):
                    async with _client(broker, "pump-a", pw["pump-a"], identifier=stolen) as a:
                        await a.publish("devices/pump-a/telemetry", stolen, qos=1)
                await b.publish("devices/pump-b/telemetry", "still connected", qos=1)
            seen = await _drain(svc, 1.0)
    finally:
        broker.stop()
    # Neither ingest nor pump-b was disconnected, and pump-b's Last Will never fired.
    assert seen == [
        "devices/pump-a/telemetry ingest",
        "devices/pump-a/telemetry pump-b",
        "devices/pump-b/telemetry still connected",
    ]


async def test_the_service_user_reads_device_topics_and_writes_none(pool: Pool) -> None:
    broker = DeployBroker(services.WORK)
    pw = await _fleet(pool, broker)
    try:
        async with (
            _client(broker, "ingest-2", SECRET) as reader,
            _client(broker, "pump-a", pw["pump-a"]) as device,
        ):
            await reader.subscribe("devices/+/telemetry", qos=1)
            await device.subscribe("devices/pump-a/commands/#", qos=1)
            for topic in ("devices/pump-a/telemetry", "devices/pump-a/commands/reboot"):
                # Mosquitto may drop the connection of a client publishing where it may not.
                with contextlib.suppress(aiomqtt.MqttError):
                    async with _client(broker, "ingest", SECRET) as svc:
                        await svc.publish(topic, "forged by ingest", qos=1)
            await device.publish("devices/pump-a/telemetry", "from pump-a", qos=1)
            read, commanded = await asyncio.gather(_drain(reader, 1.0), _drain(device, 1.0))
    finally:
        broker.stop()
    assert read == ["devices/pump-a/telemetry from pump-a"]
    assert commanded == []


async def test_a_fleet_user_commands_devices_reads_replies_and_forges_no_telemetry(
    pool: Pool,
) -> None:
    broker = DeployBroker(services.WORK)
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(pool, Tenant("acme", "Acme"))
    pw = await registry.register_devices(pool, [Device("pump-a", "pump-motor", "acme")])
    await broker.write_auth(pool, {"ingest": SECRET, "fleet": SECRET})
    broker.start()
    try:
        async with (
            _client(broker, "ingest", SECRET) as reader,
            _client(broker, "fleet", SECRET) as fleet,
            _client(broker, "pump-a", pw["pump-a"]) as device,
        ):
            await reader.subscribe("devices/+/telemetry", qos=1)
            await fleet.subscribe("devices/+/replies/#", qos=1)
            await device.subscribe("devices/pump-a/commands/#", qos=1)
            await fleet.publish("devices/pump-a/commands/c1", "reboot", qos=1)
            commanded = await _drain(device, 1.0)
            await device.publish("devices/pump-a/replies/c1", "done", qos=1)
            replies = await _drain(fleet, 1.0)
            # Mosquitto may drop the connection of a client publishing where it may not.
            with contextlib.suppress(aiomqtt.MqttError):
                async with _client(broker, "fleet", SECRET) as forger:
                    await forger.publish("devices/pump-a/telemetry", "forged by fleet", qos=1)
            read = await _drain(reader, 1.0)
    finally:
        broker.stop()
    assert commanded == ["devices/pump-a/commands/c1 reboot"]
    assert replies == ["devices/pump-a/replies/c1 done"]
    assert read == []


async def test_ingest_owns_its_session_and_refuses_a_share_group_on_mosquitto(
    pool: Pool, db_url: str
) -> None:
    broker = DeployBroker(services.WORK)
    pw = await _fleet(pool, broker)
    url = broker.url("ingest", SECRET)
    try:
        with pytest.raises(ConfigError, match="must equal the MQTT username"):
            IngestConfig.from_settings(Settings(ingest_client_id="servitize-ingest-1"), url)
        shared = IngestConfig.from_settings(Settings(ingest_group="ingest"), url)
        assert shared.client_id == "ingest"
        with pytest.raises(ConfigError, match="Mosquitto does not restore"):
            await asyncio.wait_for(IngestService(pool, shared).run(asyncio.Event()), 20)
        # Allowed on purpose, the same group works through the ACL (read on the shared filter).
        allowed = IngestConfig.from_settings(
            Settings(ingest_group="ingest", ingest_allow_mosquitto_share=True), url
        )
        stop = asyncio.Event()
        service = IngestService(pool, allowed)
        task = asyncio.create_task(service.run(stop))
        await asyncio.wait_for(service.connected.wait(), 20)
        async with _client(broker, "pump-a", pw["pump-a"]) as device:
            await device.publish("devices/pump-a/telemetry", json.dumps(reading(1)), qos=1)
        await eventually(lambda: _rows(pool, 1), within=20)
        stop.set()
        await asyncio.wait_for(task, 20)
    finally:
        broker.stop()
    assert service.broker_version is not None and service.broker_version.startswith("mosquitto")


async def _rows(pool: Pool, n: int) -> bool:
    return await count(pool, "SELECT count(*) FROM telemetry") >= n
