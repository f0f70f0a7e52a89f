"""Helpers for ingest tests: seed devices, run ingest in-process or as a process, publish."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiomqtt

from ingest.service import IngestConfig, IngestService
from registry import service as registry
from registry.models import Device, Tenant
from servitize.db import Pool
from servitize.mqtturl import MqttUrl
from tests import services
from tests.deploy_broker import serving


async def seed(pool: Pool, n: int = 3, prefix: str = "pump") -> list[str]:
    """Register built-in types, tenant acme and n pump devices."""
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(pool, Tenant("acme", "Acme Water"))
    ids = [f"{prefix}-{i}" for i in range(n)]
    await registry.register_devices(pool, [Device(i, "pump-motor", "acme") for i in ids])
    return ids


@asynccontextmanager
async def running_ingest(
    pool: Pool, broker_url: str, **overrides: object
) -> AsyncIterator[IngestService]:
    """Run an IngestService in this event loop for the duration of the block."""
    # A fresh client id and group per test: a persistent session of an earlier test's
    # ingest would otherwise stay a member of the shared group and be dealt messages.
    tag = time.monotonic_ns()
    config = IngestConfig(
        mqtt=MqttUrl.parse(broker_url),
        client_id=f"test-{tag}",
        group=f"g{tag}" if services.shared_subscriptions() else "",
        # These tests restart ingest, never the broker (test_ingest_broker_restart.py does).
        allow_mosquitto_share=True,
        batch_max_delay_s=0.05,
    )
    service = IngestService(pool, replace(config, **overrides))  # type: ignore[arg-type]
    async with serving(service):
        yield service


# One base for the whole run, so the same i always means the same timestamp.
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def reading(
    i: int, metrics: dict[str, float] | None = None, base: datetime | None = None
) -> dict[str, object]:
    """A reading i seconds after `base` (default: a fixed instant two hours before the run)."""
    ts = (base or BASE) + timedelta(seconds=i)
    return {"ts": ts.isoformat(), "seq": i, "metrics": metrics or {"flow_m3h": 100.0 + i % 7}}


async def publish(
    broker_url: str,
    messages: Sequence[tuple[str, object]],
    retain: bool = False,
) -> None:
    """Publish messages with QoS 1 and wait for every PUBACK."""
    url = MqttUrl.parse(broker_url)
    async with aiomqtt.Client(url.host, url.port, max_inflight_messages=200) as client:
        for topic, payload in messages:
            body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
            await client.publish(topic, body, qos=1, retain=retain)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    """Poll until check() is true, or fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def count(pool: Pool, sql: str, *args: object) -> int:
    """Run a count query."""
    async with pool.acquire() as conn:
        value: int = await conn.fetchval(sql, *args)
        return value


def spawn_ingest(
    db_url: str, broker_url: str, client_id: str, group: str = "ingest", **extra_env: str
) -> subprocess.Popen[bytes]:
    """Start `servitize ingest` as a separate process."""
    env = dict(
        os.environ,
        SERVITIZE_DATABASE_URL=db_url,
        SERVITIZE_MQTT_URL=broker_url,
        SERVITIZE_INGEST_BATCH_MAX_DELAY_MS="50",
        SERVITIZE_INGEST_ALLOW_MOSQUITTO_SHARE="true",
        **extra_env,
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "servitize.cli",
            "ingest",
            "--client-id",
            client_id,
            "--group",
            group,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
