"""Simulator benchmark: generation speed of the demo fleet and accelerated publishing speed.

Usage:
    python -m bench.simulate [--days 2] [--repeats 3]

Generation: the demo fleet (19 devices) over --days, models + faults + quantisation, then
readings as JSON-ready dicts; the baseline in the same run is drawing the same number of
plain normal random numbers with numpy (the floor any generator pays). Publishing: the
same span as batch messages at QoS 1 to a private Mosquitto over 1 connection (baseline) and
over 4, messages pre-built so only the MQTT path is timed; and the whole accelerated mode
(generate + encode + publish) as a user runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np

from bench.common import machine, median, private_broker, progress, table
from simulators.accelerated import span_messages
from simulators.faults import DEFAULT, FaultPlanner
from simulators.fleet import fleet
from simulators.generate import Span
from simulators.messages import OutMessage, encode, telemetry_topic
from simulators.publisher import publish_fleet

DAY_MS = 86_400_000
START_MS = 1_780_272_000_000  # 2026-06-01T00:00:00Z
SINGLES = 50_000


def _span(days: float) -> Span:
    demo = fleet("demo")
    return Span(demo, START_MS, START_MS + round(days * DAY_MS), FaultPlanner(DEFAULT, START_MS))


def _generate(days: float) -> tuple[float, int, int]:
    """Seconds, readings and metric values to generate the span as reading dicts."""
    started = time.perf_counter()
    readings = values = 0
    for chunk in _span(days).chunks():
        rows = chunk.readings()
        readings += len(rows)
        values += sum(len(r["metrics"]) for r in rows)
    return time.perf_counter() - started, readings, values


def _single_messages(n: int) -> list[OutMessage]:
    """The first n readings of the demo fleet, one per message, as live devices send them."""
    out: list[OutMessage] = []
    for chunk in _span(1).chunks():
        topic = telemetry_topic(chunk.device_id)
        out += [OutMessage(topic, encode(r)) for r in chunk.readings()]
        if len(out) >= n:
            return out[:n]
    return out


def _numpy_floor(values: int) -> float:
    started = time.perf_counter()
    rng = np.random.default_rng(1)
    for _ in range(0, values, 1_000_000):
        rng.normal(size=1_000_000)
    return time.perf_counter() - started


async def _publish(url: str, messages: list[OutMessage], connections: int) -> float:
    stats = await publish_fleet(url, messages, connections=connections)
    return stats.seconds


async def _accelerated(url: str, days: float) -> float:
    started = time.perf_counter()
    await publish_fleet(url, span_messages(_span(days)), connections=4)
    return time.perf_counter() - started


async def main(days: float, repeats: int) -> None:
    """Run every measurement `repeats` times and print the medians."""
    gen, floor = [], []
    readings = values = 0
    for i in range(repeats):
        progress(f"generation {i + 1}/{repeats}")
        seconds, readings, values = _generate(days)
        gen.append(seconds)
        floor.append(_numpy_floor(values))
    messages = list(span_messages(_span(days)))
    singles = _single_messages(SINGLES)
    broker = private_broker()
    pub1, pub4, acc, one1, one4 = [], [], [], [], []
    try:
        for i in range(repeats):
            progress(f"publishing {i + 1}/{repeats} ({len(messages):,} messages)")
            pub1.append(await _publish(broker.url, messages, 1))
            pub4.append(await _publish(broker.url, messages, 4))
            acc.append(await _accelerated(broker.url, days))
            one1.append(await _publish(broker.url, singles, 1))
            one4.append(await _publish(broker.url, singles, 4))
    finally:
        broker.stop()
    rows = [
        ("numpy normal draws, same value count (floor)", median(floor), readings),
        ("generate demo fleet (models, faults, readings)", median(gen), readings),
        ("publish batches, 1 connection (baseline)", median(pub1), readings),
        ("publish batches, 4 connections", median(pub4), readings),
        ("accelerated mode end to end, 4 connections", median(acc), readings),
    ]
    live = [
        ("1 connection (baseline)", median(one1)),
        ("4 connections", median(one4)),
    ]
    print(f"\nSimulator, demo fleet ({len(fleet('demo').devices)} devices), {days:g} days: "
          f"{readings:,} readings, {values:,} values, {len(messages):,} messages; "
          f"median of {repeats}; {machine()}\n")  # fmt: skip
    print(
        table(
            ["what", "median s", "readings/s", "model days per minute"],
            [(what, f"{s:.2f}", f"{n / s:,.0f}", f"{days / s * 60:,.1f}") for what, s, n in rows],
        )
    )
    print(f"\nFleet-scale live style: {SINGLES:,} one-reading messages at QoS 1\n")
    print(
        table(
            ["connections", "median s", "messages/s"],
            [(what, f"{s:.2f}", f"{SINGLES / s:,.0f}") for what, s in live],
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.days, args.repeats))
