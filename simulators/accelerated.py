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
    """Every message of a span, batches as full as a device's readings allow."""
    for _, messages in span_hours(span, progress, counts, hold=True):
        yield from messages


def span_hours(
    span: Span, progress: Progress | None, counts: list[int] | None, *, hold: bool
) -> Iterator[tuple[int, list[OutMessage]]]:
    """(hour end ms, messages) hour by hour; hold=True keeps part batches for later hours."""
    tally = counts if counts is not None else [0, 0]
    pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for hour_end, chunks in span.hours(progress.update if progress else None):
        messages: list[OutMessage] = []
        for chunk in chunks:
            tally[0] += len(chunk)
            tally[1] += len(chunk.events)
            held = pending[chunk.device_id]
            held += chunk.readings()
            # Slow reporters fill a batch over many hours: unless the run is paced, send
            # full batches only and the rest later.
            n = len(held) // MAX_BATCH_READINGS * MAX_BATCH_READINGS if hold else len(held)
            messages += _telemetry(chunk.device_id, held[:n])
            del held[:n]
            messages += [event_message(chunk.device_id, e) for e in chunk.events]
        if progress:
            progress.readings, progress.messages = tally[0], progress.messages + len(messages)
        yield hour_end, messages
    yield span.end_ms, [m for d, held in pending.items() for m in _telemetry(d, held)]


def _telemetry(device_id: str, readings: list[dict[str, Any]]) -> list[OutMessage]:
    topic = telemetry_topic(device_id)
    return [OutMessage(topic, p) for p in batch_payloads(readings)] if readings else []


async def _paced(
    hours: Iterator[tuple[int, list[OutMessage]]], start_ms: int, speedup: float
) -> AsyncIterator[OutMessage]:
    """Release each hour's messages once `speedup` times its model time has passed."""
    started = time.monotonic()
    for hour_end, messages in hours:
        ahead = (hour_end - start_ms) / 1000 / speedup - (time.monotonic() - started)
        if ahead > 0:
            await asyncio.sleep(ahead)
        for message in messages:
            yield message


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
    if speedup:
        hours = span_hours(span, bar, counts, hold=False)
        messages: Iterator[OutMessage] | AsyncIterator[OutMessage] = _paced(
            hours, span.start_ms, speedup
        )
    else:
        messages = span_messages(span, bar, counts)
    try:
        stats = await publish_fleet(mqtt_url, messages, connections=connections)
    finally:
        bar.done()
    faults = span.labels()
    if labels_path is not None:
        write_labels(labels_path, info, faults)
    return AcceleratedResult(counts[0], counts[1], len(faults), stats)
