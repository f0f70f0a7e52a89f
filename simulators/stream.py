"""A device's readings as consecutive hour-aligned chunks: model, faults, range, resolution.

Chunk boundaries are whole UTC hours and each chunk draws from its own random stream keyed by
(device seed, hour), so every mode that walks the same span produces the same readings.
"""

from __future__ import annotations

import numpy as np

from registry.catalog import builtin_type
from simulators import inject
from simulators.faults import FaultPlanner
from simulators.kinds import model_class
from simulators.kinds.base import quantise
from simulators.models import Chunk, DeviceSpec, Fault, FloatArray

CHUNK_MS = 3_600_000


class DeviceStream:
    """Generates one device's readings from start_ms onwards."""

    def __init__(self, spec: DeviceSpec, start_ms: int, planner: FaultPlanner) -> None:
        self.spec = spec
        self.type = builtin_type(spec.type_id)
        self.interval_ms = self.type.reporting_interval_s * 1000
        self.model_cls = model_class(spec.type_id)
        # Devices do not all report on the same second: a fixed per-device phase.
        phase = spec.seed % self.interval_ms
        first = -(-(start_ms - phase) // self.interval_ms) * self.interval_ms + phase
        self.next_ms = first
        self.window_ms = start_ms
        self.model = self.model_cls(spec, first / 1000, self.type.reporting_interval_s)
        self.planner = planner
        self.seq = 0
        self.stuck: dict[Fault, float] = {}
        self.faults_seen: list[Fault] = []
        self.active_faults: list[Fault] = []

    def next_chunk(self) -> Chunk:
        """Readings up to the next whole hour (events and applied faults included)."""
        w0 = self.window_ms  # windows tile time, so no event falls between two chunks
        w1 = (self.next_ms // CHUNK_MS + 1) * CHUNK_MS
        self.window_ms = w1
        ts = np.arange(self.next_ms, w1, self.interval_ms, dtype=np.int64)
        self.next_ms = int(ts[-1]) + self.interval_ms
        faults = self.planner.window(self.spec, self.model_cls, w0, w1)
        self._remember(faults)
        self.stuck = {f: v for f, v in self.stuck.items() if f.end_ms > w0}
        rng = np.random.default_rng([self.spec.seed, 3, int(ts[0]) // CHUNK_MS])
        cols, events = self.model.step(ts / 1000.0, rng, inject.modifiers(faults, ts))
        self._clip(cols)
        inject.apply_sensor_faults(faults, ts, cols, self.stuck)
        cols = {m: quantise(v, self.model_cls.steps[m]) for m, v in cols.items()}
        seq = np.arange(self.seq, self.seq + ts.size, dtype=np.int64)
        self.seq += ts.size
        events += inject.code_events(faults, self.model_cls, w0, w1)
        keep = ~inject.silent(faults, ts)
        stamps = np.array([e.ts_ms for e in events], dtype=np.int64)
        muted = inject.silent(faults, stamps).tolist()
        events = [e for e, m in zip(events, muted, strict=True) if not m]
        chunk = Chunk(self.spec.id, ts[keep], seq[keep], {m: v[keep] for m, v in cols.items()})
        chunk.events = sorted(events, key=lambda e: e.ts_ms)
        self.active_faults = faults
        return chunk

    def _clip(self, cols: dict[str, FloatArray]) -> None:
        """Keep normal values inside the catalog's valid range (faults may leave it later)."""
        for name, values in cols.items():
            spec = self.type.metric(name)
            if spec is None:
                raise KeyError(f"{self.spec.type_id} model produced unknown metric {name}")
            lo = -np.inf if spec.min_value is None else spec.min_value
            hi = np.inf if spec.max_value is None else spec.max_value
            np.clip(values, lo, hi, out=values)

    def _remember(self, faults: list[Fault]) -> None:
        known = set(self.faults_seen)
        self.faults_seen += [f for f in faults if f not in known]

    def labels(self, end_ms: int) -> list[Fault]:
        """Faults that started before end_ms in the span generated so far."""
        return [f for f in self.faults_seen if f.start_ms < end_ms]
