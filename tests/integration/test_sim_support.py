"""Helpers for simulator tests against a real broker: capture what devices publish."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from servitize.infra import BrokerProcess, mosquitto_config, wait_for_port
from servitize.mqtturl import MqttUrl


@dataclass
class Capture:
    """Messages a test subscriber received: (topic, payload, retain)."""

    messages: list[tuple[str, bytes, bool]] = field(default_factory=list)

    def payloads(self, topic: str) -> list[bytes]:
        """Payloads received on one topic, in order."""
        return [p for t, p, _ in self.messages if t == topic]

    def readings(self, device_id: str) -> list[dict[str, Any]]:
        """Every reading a device published (batches unpacked), in arrival order."""
        out: list[dict[str, Any]] = []
        for body in self.payloads(f"devices/{device_id}/telemetry"):
            doc = json.loads(body)
            out += doc.get("readings", [doc])
        return out

    async def until(self, check: Callable[[], bool], within_s: float = 60.0) -> None:
        """Wait until check() holds (it looks at state other tasks change, so poll)."""
        async with asyncio.timeout(within_s):
            while not check():  # noqa: ASYNC110
                await asyncio.sleep(0.05)


@asynccontextmanager
async def capture(
    url: str, topic: str = "devices/#", *, identifier: str | None = None, persistent: bool = False
) -> AsyncIterator[Capture]:
    """Subscribe (QoS 1) for the duration of the block; reconnects if the broker restarts."""
    cap = Capture()
    broker = MqttUrl.parse(url)
    ident = identifier or f"cap-{uuid.uuid4().hex[:8]}"
    subscribed = asyncio.Event()

    async def loop() -> None:
        while True:
            try:
                async with aiomqtt.Client(
                    broker.host, broker.port, identifier=ident, clean_session=not persistent,
                    max_queued_incoming_messages=0,
                ) as client:  # fmt: skip
                    await client.subscribe(topic, qos=1)
                    subscribed.set()
                    async for m in client.messages:
                        cap.messages.append((str(m.topic), bytes(m.payload), m.retain))
            except aiomqtt.MqttError:
                await asyncio.sleep(0.1)

    task = asyncio.create_task(loop())
    await asyncio.wait_for(subscribed.wait(), 10)
    try:
        yield cap
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextmanager
def persistence_dir() -> Iterator[Path]:
    """A directory Mosquitto can save its database in, removed afterwards.

    Mosquitto started as root drops to user mosquitto, which cannot enter pytest's private
    (0700) tmp_path; a world-writable directory directly in the system temp dir works.
    """
    path = Path(tempfile.mkdtemp(prefix="servitize-mq-"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def persistent_broker(data_dir: Path, port: int) -> BrokerProcess:
    """A Mosquitto that keeps sessions and queued messages across a restart on the same port."""
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    conf = data_dir / f"persistent-{port}.conf"
    extra = f"persistence true\npersistence_location {data_dir}/\nautosave_interval 0\n"
    conf.write_text(mosquitto_config(port, extra))
    log = (data_dir / f"mosquitto-{port}.log").open("ab")
    process = subprocess.Popen([mosquitto, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    wait_for_port("127.0.0.1", port)
    return BrokerProcess(port, "mosquitto", process)
