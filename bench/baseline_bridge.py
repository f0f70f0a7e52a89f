"""The bridge a user would otherwise write: subscribe, one INSERT per message, auto-ack.

Run as a process; it stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from datetime import UTC, datetime

import aiomqtt
import asyncpg

from servitize.mqtturl import MqttUrl

_INSERT = """INSERT INTO telemetry (device_id, metric, ts, value, seq)
SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::int8[])
ON CONFLICT DO NOTHING"""


async def _bridge(mqtt_url: str, db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    broker = MqttUrl.parse(mqtt_url)
    async with aiomqtt.Client(
        broker.host, broker.port, identifier="baseline-bridge", clean_session=False
    ) as client:
        await client.subscribe("devices/+/telemetry", qos=1)
        async for message in client.messages:
            device = message.topic.value.split("/")[1]
            assert isinstance(message.payload, bytes)
            rows = json.loads(message.payload)["readings"]
            cols: list[list[object]] = [[], [], [], [], []]
            for r in rows:
                for metric, value in r["metrics"].items():
                    ts = datetime.fromtimestamp(r["ts"] / 1000, UTC)
                    for col, v in zip(cols, (device, metric, ts, value, r["seq"]), strict=True):
                        col.append(v)
            await conn.execute(_INSERT, *cols)


async def _main(mqtt_url: str, db_url: str) -> None:
    task = asyncio.create_task(_bridge(mqtt_url, db_url))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    """Entry point."""
    p = argparse.ArgumentParser()
    p.add_argument("--mqtt-url", required=True)
    p.add_argument("--db-url", required=True)
    a = p.parse_args()
    asyncio.run(_main(a.mqtt_url, a.db_url))


if __name__ == "__main__":
    main()
