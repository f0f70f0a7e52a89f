"""Fault profiles and the fault planner: which faults each device gets, when, and how strong.

Plans are a pure function of (device seed, UTC day, profile), so any window of any run can be
planned on its own, and offline, accelerated and real-time runs inject the same faults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from registry.catalog import builtin_type
from simulators.kinds.base import KindModel
from simulators.models import SENSOR_FAULTS, DeviceSpec, Fault, FaultKind
from simulators.weather import DAY_S, storms_of_day

K = FaultKind
H = 3600.0
# Longest fault any profile plans; windows look this far back for faults still running.
MAX_DURATION_S = 3 * DAY_S
_KIND_INDEX = {kind: i for i, kind in enumerate(FaultKind)}


@dataclass(frozen=True, slots=True)
class FaultProfile:
    """Fault rates (per device-day; landslide: chance per heavy storm) and duration ranges."""

    name: str
    rates: dict[FaultKind, float]
    durations_s: dict[FaultKind, tuple[float, float]]
    warmup_s: float = 0.0

    def scaled(self, name: str, rate: float, duration: float, warmup_s: float) -> FaultProfile:
        """The same mix at other rates and durations."""
        rates = {
            k: min(v * rate, 1.0) if k == K.LANDSLIDE else v * rate for k, v in self.rates.items()
        }
        durs = {k: (lo * duration, hi * duration) for k, (lo, hi) in self.durations_s.items()}
        return FaultProfile(name, rates, durs, warmup_s)


_DURATIONS: dict[FaultKind, tuple[float, float]] = {
    K.SPIKE: (0.0, 0.0),  # a spike lasts one to three samples
    K.STEP: (2 * H, 12 * H),
    K.DRIFT: (24 * H, 72 * H),
    K.STUCK: (1 * H, 6 * H),
    K.NOISE: (2 * H, 12 * H),
    K.OVERHEAT: (3 * H, 12 * H),
    K.BATTERY: (6 * H, 24 * H),
    K.COMM_LOSS: (0.2 * H, 3 * H),
    K.LANDSLIDE: (6 * H, 24 * H),
    K.FAULT_CODE: (0.0, 0.0),
}
# About one fault per device every two weeks, so most device-days are normal (to train on
# and to count false alerts against); a week of warm-up is fault-free.
DEFAULT = FaultProfile(
    "default",
    {
        K.SPIKE: 0.015, K.STEP: 0.005, K.DRIFT: 0.004, K.STUCK: 0.005, K.NOISE: 0.005,
        K.OVERHEAT: 0.006, K.BATTERY: 0.01, K.COMM_LOSS: 0.01, K.LANDSLIDE: 0.3,
        K.FAULT_CODE: 0.01,
    },
    _DURATIONS,
    warmup_s=7 * DAY_S,
)  # fmt: skip
NONE = FaultProfile("none", {}, _DURATIONS)
# Real-time demos: faults every few model hours across a fleet, short enough to watch.
DEMO = DEFAULT.scaled("demo", 20.0, 0.15, warmup_s=2 * H)
PROFILES = {p.name: p for p in (DEFAULT, NONE, DEMO)}


def profile(name: str) -> FaultProfile:
    """A named profile, or a clear error."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown fault profile {name!r}; use one of {sorted(PROFILES)}") from None


def applicable(model: type[KindModel]) -> list[FaultKind]:
    """Fault kinds a device kind can suffer."""
    kinds = [k for k in FaultKind if k in SENSOR_FAULTS] + sorted(model.process_faults)
    return [*kinds, K.COMM_LOSS, K.FAULT_CODE]


@dataclass
class FaultPlanner:
    """Plans faults of a profile for runs starting at run_start_ms."""

    profile: FaultProfile
    run_start_ms: int
    explicit: list[Fault] = field(default_factory=list)
    _days: dict[tuple[str, int], list[Fault]] = field(default_factory=dict, repr=False)

    def window(self, spec: DeviceSpec, model: type[KindModel], w0: int, w1: int) -> list[Fault]:
        """Faults of one device overlapping [w0, w1) ms."""
        first = int((w0 / 1000 - MAX_DURATION_S) // DAY_S)
        found = [f for f in self.explicit if f.device_id == spec.id]
        for day in range(first, int(w1 / 1000 // DAY_S) + 1):
            found += self._cached_day(spec, model, day)
        earliest = self.run_start_ms + self.profile.warmup_s * 1000
        return [
            f for f in found
            if f.overlaps(w0, w1) and (f.start_ms >= earliest or f in self.explicit)
        ]  # fmt: skip

    def _cached_day(self, spec: DeviceSpec, model: type[KindModel], day: int) -> list[Fault]:
        key = (spec.id, day)
        if key not in self._days:
            if len(self._days) > 50_000:  # runs walk forward: old days are not asked again
                self._days.clear()
            self._days[key] = self.day(spec, model, day)
        return self._days[key]

    def day(self, spec: DeviceSpec, model: type[KindModel], day: int) -> list[Fault]:
        """Faults of one device starting on one UTC day."""
        out: list[Fault] = []
        for kind in applicable(model):
            rate = self.profile.rates.get(kind, 0.0)
            if rate <= 0:
                continue
            rng = np.random.default_rng([spec.seed, day, 11, _KIND_INDEX[kind]])
            if kind == K.LANDSLIDE:
                starts = [s.end_s for s in storms_of_day(spec.site_seed, day) if s.heavy]
                starts = [s for s in starts if rng.random() < rate]
            else:
                starts = sorted(rng.uniform(0, DAY_S, rng.poisson(rate)) + day * DAY_S)
            out += [self._fault(spec, model, kind, float(s), rng) for s in starts]
        return out

    def _fault(
        self, spec: DeviceSpec, model: type[KindModel], kind: FaultKind, start_s: float,
        rng: np.random.Generator,
    ) -> Fault:  # fmt: skip
        interval = float(builtin_type(spec.type_id).reporting_interval_s)
        lo, hi = self.profile.durations_s.get(kind, (0.0, 0.0))
        duration = max(float(rng.uniform(lo, hi)), interval)
        metrics, magnitude, code = _shape(kind, model, rng)
        if kind == K.SPIKE:
            duration = interval * int(rng.integers(1, 4))
        elif kind == K.FAULT_CODE:
            duration = interval
        start_ms = int(start_s) * 1000  # whole seconds, so labels read cleanly
        end_ms = start_ms + round(duration) * 1000
        seed = int(rng.integers(2**31))
        return Fault(spec.id, kind, metrics, start_ms, end_ms, magnitude, seed, code)


def _shape(
    kind: FaultKind, model: type[KindModel], rng: np.random.Generator
) -> tuple[tuple[str, ...], float, str | None]:
    """Metrics, magnitude and fault code of a new fault."""
    sign = float(rng.choice([-1.0, 1.0]))
    if kind in SENSOR_FAULTS:
        metric = str(rng.choice(sorted(model.scales)))
        return (metric,), _sensor_magnitude(kind, sign, model.scales[metric], rng), None
    if kind == K.FAULT_CODE:
        return (), 0.0, model.fault_codes[int(rng.integers(len(model.fault_codes)))][0]
    if kind == K.OVERHEAT:  # extra heat, °C
        return model.overheat_metrics, float(rng.uniform(30, 60)), None
    if kind == K.BATTERY:  # drain factor
        return ("battery_pct", "battery_voltage_v"), float(rng.uniform(3, 6)), None
    if kind == K.LANDSLIDE:  # peak extra velocity, mm/h
        metrics: tuple[str, ...] = getattr(model, "landslide_metrics", ())
        return metrics, float(rng.uniform(2, 10)), None
    return (), 0.0, None


def _sensor_magnitude(
    kind: FaultKind, sign: float, scale: float, rng: np.random.Generator
) -> float:
    if kind == K.SPIKE:
        return sign * float(rng.uniform(8, 20)) * scale
    if kind == K.STEP:
        return sign * float(rng.uniform(4, 8)) * scale
    if kind == K.DRIFT:
        return sign * float(rng.uniform(6, 15)) * scale
    if kind == K.NOISE:
        return float(rng.uniform(3, 8)) * scale
    return 0.0
