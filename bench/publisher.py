"""A load generator process: many devices, batch messages of N readings, QoS 1, optional pacing.

Each reading carries its publish time (µs since the epoch) as `seq`, so commit latency can be
read back from the database.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from servitize.mqtturl import MqttUrl


class _Acks:
    def __init__(self) -> None:
        self.count = 0
        self.done = threading.Event()
        self.expected = -1

    def on_publish(self, *_: object) -> None:
        self.count += 1
        if self.count == self.expected:
            self.done.set()


def _payload(device_index: int, m: int, per_message: int, base_ms: int) -> bytes:
    now_us = int(time.time() * 1_000_000)
    readings = [
        {
            "ts": base_ms + m * per_message + i,
            "seq": now_us,
            "metrics": {"flow_m3h": float((device_index + m + i) % 500)},
        }
        for i in range(per_message)
    ]
    return json.dumps({"readings": readings}).encode()


def publish(
    url: str, devices: list[str], messages: int, per_message: int, rate: float, base_ms: int
) -> dict[str, float]:
    """Publish `messages` per device; rate = messages/s overall (0 = as fast as possible)."""
    broker = MqttUrl.parse(url)
    acks = _Acks()
    acks.expected = messages * len(devices)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, clean_session=True)
    client.on_publish = acks.on_publish
    client.max_inflight_messages_set(1000)
    client.connect(broker.host, broker.port, keepalive=60)
    client.loop_start()
    start = time.time()
    sent = 0
    for m in range(messages):
        for index, device in enumerate(devices):
            while (
                client.publish(
                    f"devices/{device}/telemetry", _payload(index, m, per_message, base_ms), qos=1
                ).rc
                != 0
            ):
                time.sleep(0.001)  # client-side queue full: wait for acknowledgements
            sent += 1
            if rate and sent % 50 == 0:
                lag = start + sent / rate - time.time()
                if lag > 0:
                    time.sleep(lag)
    acks.done.wait(600)
    end = time.time()
    client.loop_stop()
    client.disconnect()
    return {"start": start, "end": end, "messages": sent, "acked": acks.count}


def main() -> None:
    """Run as a process: arguments in, one JSON line out."""
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--devices", required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--per-message", type=int, default=10)
    p.add_argument("--rate", type=float, default=0.0)
    p.add_argument("--base-ms", type=int, required=True)
    a = p.parse_args()
    result = publish(a.url, a.devices.split(","), a.messages, a.per_message, a.rate, a.base_ms)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
