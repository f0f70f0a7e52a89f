"""The generated Mosquitto password file and ACL, enforced by a real Mosquitto."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from pathlib import Path

import aiomqtt
import pytest

from registry import service as registry
from registry.credentials import hash_password
from registry.models import Device, Tenant
from servitize.db import Pool
from servitize.infra import NO_DROP_SETTINGS, free_port, wait_for_port
from tests import services

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists(),
    reason="Mosquitto is not installed",
)


async def test_devices_write_only_their_own_topics(pool: Pool) -> None:
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(pool, Tenant("acme", "Acme"))
    pw = await registry.register_devices(
        pool, [Device("pump-a", "pump-motor", "acme"), Device("pump-b", "pump-motor", "acme")]
    )
    passwd, acl = await registry.mosquitto_auth_files(pool, {"ingest": hash_password("s3cret")})
    work = services.WORK / f"auth-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    (work / "passwd").write_text(passwd)
    (work / "acl").write_text(acl)
    port = free_port()
    (work / "m.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {work / 'passwd'}\nacl_file {work / 'acl'}\n" + NO_DROP_SETTINGS
    )
    proc = _start_mosquitto(work / "m.conf")
    try:
        wait_for_port("127.0.0.1", port)
        got = await _sent_and_seen(port, pw["pump-a"])
    finally:
        proc.terminate()
        proc.wait(10)
    assert got == {"devices/pump-a/telemetry"}


def _start_mosquitto(conf: Path) -> subprocess.Popen[bytes]:
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    return subprocess.Popen([mosquitto, "-c", str(conf)], stderr=subprocess.DEVNULL)


async def _sent_and_seen(port: int, device_password: str) -> set[str]:
    seen: set[str] = set()
    async with aiomqtt.Client("127.0.0.1", port, username="ingest", password="s3cret") as svc:
        await svc.subscribe("devices/+/telemetry", qos=1)  # all the ACL grants ingest
        async with aiomqtt.Client(
            "127.0.0.1", port, username="pump-a", password=device_password
        ) as dev:
            await dev.publish("devices/pump-a/telemetry", b"{}", qos=1)
            await dev.publish("devices/pump-b/telemetry", b"{}", qos=1)  # denied by the ACL
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", port, username="pump-a", password="wrong"):
                pass
        try:
            async with asyncio.timeout(1.5):
                async for message in svc.messages:
                    seen.add(message.topic.value)
        except TimeoutError:
            pass
    return seen
