"""What every device-kind model provides, and small numeric helpers they share."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from simulators.models import DeviceSpec, FaultKind, FloatArray, SimEvent
from simulators.weather import Weather


@dataclass(slots=True)
class Modifiers:
    """Process-fault inputs to a model, one value per sample."""

    heat_c: FloatArray
    drain_factor: FloatArray
    slide_mm_h: FloatArray

    @classmethod
    def neutral(cls, n: int) -> Modifiers:
        """No process fault active."""
        return cls(np.zeros(n), np.ones(n), np.zeros(n))


class KindModel:
    """A device kind's physical model; subclasses keep state between consecutive chunks."""

    type_id: ClassVar[str]
    # Sensor resolution per metric (the value is rounded to a multiple of it).
    steps: ClassVar[dict[str, float]]
    # Typical short-term variation per metric, used to size injected sensor faults.
    scales: ClassVar[dict[str, float]]
    process_faults: ClassVar[frozenset[FaultKind]] = frozenset()
    # (code, severity, description) a device of this kind may raise.
    fault_codes: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    # Metrics an overheating fault shows in.
    overheat_metrics: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spec: DeviceSpec, start_s: float, interval_s: float) -> None:
        self.spec = spec
        self.interval_s = interval_s
        self.weather = Weather(spec.site_seed)
        self.params = np.random.default_rng([spec.seed, 7])
        self.start_s = start_s

    def step(
        self, t: FloatArray, rng: np.random.Generator, mods: Modifiers
    ) -> tuple[dict[str, FloatArray], list[SimEvent]]:
        """Metric columns and events for sample times t (epoch seconds)."""
        raise NotImplementedError


def lag(x: FloatArray, tau_s: float, dt_s: float, y0: float) -> tuple[FloatArray, float]:
    """First-order lag (thermal mass) of x with time constant tau; returns (y, last y)."""
    alpha = 1.0 - math.exp(-dt_s / tau_s)
    y = np.empty_like(x)
    value = y0
    for i, target in enumerate(x.tolist()):
        value += alpha * (target - value)
        y[i] = value
    return y, value


def decimals(step: float) -> int:
    """Decimal places needed to print multiples of a quantisation step."""
    return max(0, -math.floor(math.log10(step) + 1e-9))


def quantise(values: FloatArray, step: float) -> FloatArray:
    """Round to the sensor's resolution (NaN stays NaN)."""
    return np.round(np.round(values / step) * step, decimals(step))


def hour_of_day_local(t: FloatArray) -> FloatArray:
    """Local hour (UTC+8, the sites' timezone) as a float."""
    result: FloatArray = ((t / 3600.0) + 8.0) % 24.0
    return result


def weekday_local(t: FloatArray) -> FloatArray:
    """Local weekday, Monday = 0."""
    days = np.floor((t / 3600.0 + 8.0) / 24.0)
    result: FloatArray = (days + 3) % 7  # 1970-01-01 was a Thursday
    return result
