"""Simulator value objects: device specs, generated chunks, events and fault labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One simulated device: registry identity plus its private seed."""

    id: str
    type_id: str
    tenant_id: str
    site_id: str
    name: str
    seed: int
    site_seed: int


@dataclass(frozen=True, slots=True)
class SimEvent:
    """A device event (inspection_completed, fault_code, ...)."""

    ts_ms: int
    type: str
    code: str | None = None
    severity: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The MQTT events message body."""
        body: dict[str, Any] = {"ts": self.ts_ms, "type": self.type, "attrs": self.attrs}
        if self.code is not None:
            body["code"] = self.code
        if self.severity is not None:
            body["severity"] = self.severity
        return body


@dataclass(slots=True)
class Chunk:
    """Readings of one device over one window; NaN in a metric column means "not reported"."""

    device_id: str
    ts_ms: IntArray
    seq: IntArray
    metrics: dict[str, FloatArray]
    events: list[SimEvent] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.ts_ms.size)

    def readings(self) -> list[dict[str, Any]]:
        """Readings as MQTT reading objects (NaN metrics left out)."""
        names = list(self.metrics)
        rows = zip(*(self.metrics[n].tolist() for n in names), strict=True)
        values = [dict(zip(names, row, strict=True)) for row in rows]
        for name in names:
            if np.isnan(self.metrics[name]).any():
                for v in values:
                    if v[name] != v[name]:
                        del v[name]
        stamps, seqs = self.ts_ms.tolist(), self.seq.tolist()
        return [
            {"ts": ts, "seq": seq, "metrics": m}
            for ts, seq, m in zip(stamps, seqs, values, strict=True)
        ]


class FaultKind(StrEnum):
    """Injected fault types."""

    SPIKE = "spike"
    STEP = "step"
    DRIFT = "drift"
    STUCK = "stuck"
    NOISE = "noise"
    OVERHEAT = "overheat"
    BATTERY = "battery_drain"
    COMM_LOSS = "comm_loss"
    LANDSLIDE = "landslide"
    FAULT_CODE = "fault_code"


SENSOR_FAULTS = frozenset(
    {FaultKind.SPIKE, FaultKind.STEP, FaultKind.DRIFT, FaultKind.STUCK, FaultKind.NOISE}
)


@dataclass(frozen=True, slots=True)
class Fault:
    """A ground-truth label: which device, metrics, fault type and time window [start, end)."""

    device_id: str
    kind: FaultKind
    metrics: tuple[str, ...]
    start_ms: int
    end_ms: int
    magnitude: float = 0.0
    seed: int = 0
    code: str | None = None

    def __post_init__(self) -> None:
        if self.end_ms < self.start_ms:
            raise ValueError(f"fault ends before it starts: {self}")

    def active(self, ts_ms: IntArray) -> BoolArray:
        """Mask of the samples inside the fault window."""
        return (ts_ms >= self.start_ms) & (ts_ms < self.end_ms)

    def overlaps(self, start_ms: int, end_ms: int) -> bool:
        """Whether the window [start_ms, end_ms) meets this fault."""
        return self.start_ms < end_ms and self.end_ms > start_ms
