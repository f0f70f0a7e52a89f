"""Helpers for the simulator tests: run one device's stream over a span and stack its chunks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.faults import NONE, FaultPlanner, FaultProfile
from simulators.fleet import fleet
from simulators.models import DeviceSpec, Fault, FloatArray, IntArray, SimEvent
from simulators.stream import DeviceStream

HOUR_MS = 3_600_000
# 2026-06-01T00:00:00Z, a fixed start so the tests see the same weather every run.
START_MS = 1_780_272_000_000


@dataclass
class Series:
    """One device's readings over a span, as columns."""

    ts: IntArray
    seq: IntArray
    metrics: dict[str, FloatArray]
    events: list[SimEvent]
    labels: list[Fault]


def device(type_id: str, seed: int = 1) -> DeviceSpec:
    """The small fleet's device of a type."""
    return next(d for d in fleet("small", seed).devices if d.type_id == type_id)


def run(
    spec: DeviceSpec,
    hours: int,
    *,
    faults: list[Fault] | None = None,
    profile: FaultProfile = NONE,
    start_ms: int = START_MS,
) -> Series:
    """Generate `hours` hours of one device."""
    stream = DeviceStream(spec, start_ms, FaultPlanner(profile, start_ms, list(faults or [])))
    chunks = [stream.next_chunk() for _ in range(hours)]
    names = list(chunks[0].metrics)
    return Series(
        np.concatenate([c.ts_ms for c in chunks]),
        np.concatenate([c.seq for c in chunks]),
        {m: np.concatenate([c.metrics[m] for c in chunks]) for m in names},
        [e for c in chunks for e in c.events],
        stream.labels(start_ms + hours * HOUR_MS),
    )
