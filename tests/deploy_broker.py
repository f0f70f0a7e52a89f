"""A private Mosquitto running the shipped deploy/mosquitto/mosquitto.conf, restartable, and a
paced QoS 1 device publisher that rides out its restarts (for tests and bench/ingest_restart).

Only the listener and file locations are rewritten (a free loopback port, a scratch directory);
every other setting (persistence, queue limits, auth, client-id binding) is the deployed one.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt

from ingest.service import IngestConfig, IngestService
from registry import service as registry
from registry.credentials import hash_password
from registry.models import Device, Tenant
from servitize.db import Pool
from servitize.infra import free_port, mosquitto_binary, wait_for_port
from servitize.mqtturl import MqttUrl
from servitize.settings import Settings

DEPLOY_CONF = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto" / "mosquitto.conf"


def deploy_config(port: int, work: Path) -> str:
    """The deployed configuration, listening on 127.0.0.1:port with its files under work/."""
    text = DEPLOY_CONF.read_text()
    swaps = {
        r"^listener .*$": f"listener {port} 127.0.0.1",
        r"^password_file .*$": f"password_file {work / 'passwd'}",
        r"^acl_file .*$": f"acl_file {work / 'acl'}",
        r"^persistence_location .*$": f"persistence_location {work}/",
    }
    for pattern, line in swaps.items():
        text, n = re.subn(pattern, line, text, flags=re.MULTILINE)
        assert n == 1, f"deploy config has no single {pattern!r} line"
    # Started as root, Mosquitto switches to user mosquitto, who cannot write the scratch files.
    user = f"user {getpass.getuser()}\n" if os.geteuid() == 0 else ""
    return text + f"log_dest file {work / 'mosquitto.log'}\n" + user


class DeployBroker:
    """Mosquitto with the deploy configuration; stop() is a clean SIGTERM, as systemd does."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.work = root / f"deploy-broker-{uuid.uuid4().hex[:8]}"
        self.work.mkdir(parents=True)
        (self.work / "m.conf").write_text(deploy_config(self.port, self.work))
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, username: str, password: str) -> str:
        """Where a client logs in as username."""
        return f"mqtt://{username}:{password}@127.0.0.1:{self.port}"

    async def write_auth(self, pool: Pool, service_users: dict[str, str]) -> None:
        """Password file and ACL generated from the registry, service users by password."""
        hashed = {user: hash_password(pw) for user, pw in service_users.items()}
        passwd, acl = await registry.mosquitto_auth_files(pool, hashed)
        (self.work / "passwd").write_text(passwd)
        (self.work / "acl").write_text(acl)

    async def one_device(self, pool: Pool, service_users: dict[str, str]) -> str:
        """Register tenant acme with device pump-0, write the auth files; pump-0's password."""
        await registry.ensure_builtin_types(pool)
        await registry.save_tenant(pool, Tenant("acme", "Acme Water"))
        passwords = await registry.register_devices(pool, [Device("pump-0", "pump-motor", "acme")])
        await self.write_auth(pool, service_users)
        return passwords["pump-0"]

    def start(self) -> None:
        """Start (again, with what its persistence file holds)."""
        binary = mosquitto_binary()
        assert binary, "Mosquitto is not installed"
        cmd = [binary, "-c", str(self.work / "m.conf")]
        self.process = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        wait_for_port("127.0.0.1", self.port)

    def stop(self) -> None:
        """SIGTERM and wait: Mosquitto writes its persistence file on the way out."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None

    def restart(self) -> None:
        """Stop, then start on the same port with the same files."""
        self.stop()
        self.start()


def shipped_ingest(pool: Pool, settings: Settings) -> AbstractAsyncContextManager[IngestService]:
    """Ingest exactly as `servitize ingest` configures it from these settings."""
    assert settings.mqtt_url
    return serving(IngestService(pool, IngestConfig.from_settings(settings, settings.mqtt_url)))


@asynccontextmanager
async def serving(service: IngestService) -> AsyncIterator[IngestService]:
    """Run an IngestService in this event loop, connected, for the duration of the block."""
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    await asyncio.wait_for(service.connected.wait(), 10)
    try:
        yield service
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def reading_payload(i: int, base: datetime) -> bytes:
    """Reading i (seq i), 100 ms after reading i - 1."""
    ts = base + timedelta(milliseconds=100 * i)
    return json.dumps({"ts": ts.isoformat(), "seq": i, "metrics": {"flow_m3h": i % 500}}).encode()


async def publish_paced(url: str, n: int, rate: float) -> int:
    """Publish readings 0..n-1 at `rate`/s as a device; each retried until the broker acks it.

    Returns how many the broker acknowledged (n: a reading is retried until it is).
    """
    broker, i, start = MqttUrl.parse(url), 0, time.monotonic()
    base = datetime.now(UTC) - timedelta(milliseconds=100 * n + 60_000)
    assert broker.username
    topic = f"devices/{broker.username}/telemetry"
    while i < n:
        try:
            async with aiomqtt.Client(
                broker.host,
                broker.port,
                username=broker.username,
                password=broker.password,
                identifier=broker.username,
                timeout=3,
            ) as client:
                while i < n:
                    await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                    await _publish_acked(client, topic, reading_payload(i, base))
                    i += 1
        except aiomqtt.MqttError:
            await asyncio.sleep(0.05)  # the broker is away: retry reading i on a new connection
    return i


async def _publish_acked(client: aiomqtt.Client, topic: str, body: bytes) -> None:
    """Publish with QoS 1 and wait for the PUBACK, failing at once if the connection drops.

    (aiomqtt would wait for its timeout instead; a device notices a closed socket at once.)
    """
    sent = asyncio.ensure_future(client.publish(topic, body, qos=1))
    gone = client._disconnected
    await asyncio.wait({sent, gone}, return_when=asyncio.FIRST_COMPLETED)
    if not sent.done():
        sent.cancel()
        if not gone.cancelled():
            gone.exception()  # seen here; the client's exit reports the disconnection
        raise aiomqtt.MqttError("connection lost before the PUBACK")
    await sent


async def settled(pool: Pool, n: int, quiet_s: float = 5.0) -> int:
    """Wait until n rows are stored or the count stops growing for quiet_s; the count."""
    last, since = -1, time.monotonic()
    while (stored := await _telemetry_rows(pool)) < n:
        if stored != last:
            last, since = stored, time.monotonic()
        elif time.monotonic() - since > quiet_s:
            break
        await asyncio.sleep(0.2)
    return stored


async def _telemetry_rows(pool: Pool) -> int:
    async with pool.acquire() as conn:
        rows: int = await conn.fetchval("SELECT count(*) FROM telemetry")
        return rows
