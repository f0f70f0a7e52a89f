"""MQTT messages of the ingest contract built from generated chunks."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from simulators.models import Chunk, SimEvent

MAX_BATCH_READINGS = 1000  # the ingest contract's limit per batch message
# The contract's limit is 256 KiB; 250 KiB leaves room for a broker's or proxy's framing.
MAX_PAYLOAD_BYTES = 250 * 1024


class OutMessage(NamedTuple):
    """One MQTT publish."""

    topic: str
    payload: bytes
    retain: bool = False

    @property
    def device_id(self) -> str:
        """The device level of a devices/{id}/... topic."""
        return self.topic.split("/", 2)[1]


def telemetry_topic(device_id: str) -> str:
    """Where a device publishes readings."""
    return f"devices/{device_id}/telemetry"


def events_topic(device_id: str) -> str:
    """Where a device publishes events."""
    return f"devices/{device_id}/events"


def status_topic(device_id: str) -> str:
    """Retained online/offline status (and the Last Will)."""
    return f"devices/{device_id}/status"


def encode(body: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(body, separators=(",", ":")).encode()


def batch_payloads(readings: list[dict[str, Any]]) -> list[bytes]:
    """`{"readings": [...]}` payloads of at most 1000 readings and 200 KiB each."""
    out: list[bytes] = []
    for i in range(0, len(readings), MAX_BATCH_READINGS):
        out += _fit(readings[i : i + MAX_BATCH_READINGS])
    return out


def _fit(readings: list[dict[str, Any]]) -> list[bytes]:
    payload = encode({"readings": readings})
    if len(payload) <= MAX_PAYLOAD_BYTES or len(readings) == 1:
        return [payload]
    parts = -(-len(payload) // MAX_PAYLOAD_BYTES)  # equal parts rather than halves
    size = -(-len(readings) // parts)
    return [p for i in range(0, len(readings), size) for p in _fit(readings[i : i + size])]


def first_batch(readings: list[dict[str, Any]]) -> tuple[bytes, int]:
    """The first batch payload of a backlog and how many readings it holds."""
    head = readings[:MAX_BATCH_READINGS]
    while True:
        payload = encode({"readings": head})
        if len(payload) <= MAX_PAYLOAD_BYTES or len(head) == 1:
            return payload, len(head)
        head = head[: len(head) // 2]


def event_message(device_id: str, event: SimEvent) -> OutMessage:
    """One events message."""
    return OutMessage(events_topic(device_id), encode(event.payload()))


def chunk_messages(chunk: Chunk) -> list[OutMessage]:
    """A chunk as batch telemetry messages plus one message per event (historical replay)."""
    topic = telemetry_topic(chunk.device_id)
    out = [OutMessage(topic, p) for p in batch_payloads(chunk.readings())] if len(chunk) else []
    return out + [event_message(chunk.device_id, e) for e in chunk.events]
