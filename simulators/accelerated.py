"""Accelerated mode: historical readings batched per device, as fast as the broker takes them."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servitize.mqtturl import MqttUrl
from simulators.generate import Progress, Span
from simulators.labels import RunInfo, write_labels
from simulators.messages import (
    MAX_BATCH_READINGS,
    OutMessage,
    batch_payloads,
    event_message,
    telemetry_topic,
)
from simulators.publisher import PublishStats, publish_fleet


@dataclass
class AcceleratedResult:
    """What an accelerated run sent."""

    readings: int
    events: int
    faults: int
    publish: PublishStats


def span_messages(
    span: Span, progress: Progress | None = None, counts: list[int] | None = None
) -> Iterator[OutMessage]:
    """Every message of a span in time order (hour by hour across the fleet)."""
    tally = counts if counts is not None else [0, 0]

    def on_hour(done: int, total: int) -> None:
        if progress:
            progress.update(done, total)

    pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for chunk in span.chunks(on_hour):
        tally[0] += len(chunk)
        tally[1] += len(chunk.events)
        held = pending[chunk.device_id]
        held += chunk.readings()
        # Slow reporters fill a batch over many hours: send full batches only, the rest later.
        full = len(held) // MAX_BATCH_READINGS * MAX_BATCH_READINGS
        messages = _telemetry(chunk.device_id, held[:full])
        del held[:full]
        messages += [event_message(chunk.device_id, e) for e in chunk.events]
        if progress:
            progress.readings, progress.messages = tally[0], progress.messages + len(messages)
        yield from messages
    for device_id, held in pending.items():
        yield from _telemetry(device_id, held)


def _telemetry(device_id: str, readings: list[dict[str, Any]]) -> list[OutMessage]:
    topic = telemetry_topic(device_id)
    return [OutMessage(topic, p) for p in batch_payloads(readings)] if readings else []


async def _paced(messages: Iterator[OutMessage], speedup: float) -> AsyncIterator[OutMessage]:
    """Release messages no faster than `speedup` model seconds per wall second."""
    started = time.monotonic()
    first: int | None = None
    for message in messages:
        ts = _first_ts(message.payload)
        if ts is not None:
            first = ts if first is None else first
            ahead = (ts - first) / 1000 / speedup - (time.monotonic() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
        yield message


def _first_ts(payload: bytes) -> int | None:
    start = payload.find(b'"ts":')
    if start < 0:
        return None
    end = payload.find(b",", start)
    return int(payload[start + 5 : end])


async def run_accelerated(
    span: Span,
    mqtt_url: str | MqttUrl,
    labels_path: Path | None,
    info: RunInfo,
    *,
    connections: int = 4,
    progress: bool = True,
    speedup: float | None = None,
) -> AcceleratedResult:
    """Publish the span (QoS 1, acknowledged) and write its labels; speedup None = flat out."""
    bar = Progress("accelerated", progress)
    counts = [0, 0]
    source = span_messages(span, bar, counts)
    messages = _paced(source, speedup) if speedup else source
    try:
        stats = await publish_fleet(mqtt_url, messages, connections=connections)
    finally:
        bar.done()
    faults = span.labels()
    if labels_path is not None:
        write_labels(labels_path, info, faults)
    return AcceleratedResult(counts[0], counts[1], len(faults), stats)
