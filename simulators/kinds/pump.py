"""Pump and motor set: flow, head, current, vibration and bearing heat tied by the pump curve."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from simulators.kinds.base import KindModel, Modifiers, hour_of_day_local, lag, weekday_local
from simulators.models import DeviceSpec, FaultKind, FloatArray, SimEvent

EFFICIENCY = 0.7  # wire-to-water efficiency of a mid-size centrifugal set
VOLTS, POWER_FACTOR = 400.0, 0.85
BEARING_TAU_S = 1200.0  # bearing housing thermal time constant


class PumpModel(KindModel):
    """One pump set's process and condition readings."""

    type_id = "pump-motor"
    steps: ClassVar[dict[str, float]] = {
        "vibration_rms_mm_s": 0.01,
        "motor_current_a": 0.1,
        "bearing_temp_c": 0.1,
        "pressure_bar": 0.01,
        "flow_m3h": 0.1,
    }
    scales: ClassVar[dict[str, float]] = {
        "vibration_rms_mm_s": 0.3,
        "motor_current_a": 3.0,
        "bearing_temp_c": 1.5,
        "pressure_bar": 0.2,
        "flow_m3h": 8.0,
    }
    process_faults = frozenset({FaultKind.OVERHEAT})
    overheat_metrics = ("bearing_temp_c", "vibration_rms_mm_s")
    fault_codes = (
        ("P120", "warning", "dry-run protection"),
        ("P201", "warning", "mechanical seal leak"),
        ("P310", "critical", "motor overload trip"),
    )

    def __init__(self, spec: DeviceSpec, start_s: float, interval_s: float) -> None:
        super().__init__(spec, start_s, interval_s)
        p = self.params
        self.q_rated = float(p.uniform(50, 400))
        self.head_bar = float(p.uniform(4, 10))
        self.always_on = bool(p.random() < 0.3)
        self.vib_base = float(p.uniform(1.0, 2.5))
        self.bearing_rise = float(p.uniform(18, 30))
        self.demand_phase = float(p.uniform(0, 24))
        self.i_rated = self._current(self.q_rated * 0.9)
        self.bearing_c: float | None = None

    def _current(self, q: FloatArray | float) -> FloatArray:
        pressure = self.head_bar * (1 - 0.35 * (np.asarray(q) / self.q_rated) ** 2)
        kw = np.asarray(q) / 3600 * pressure * 1e5 / EFFICIENCY / 1000
        result: FloatArray = kw * 1000 / (np.sqrt(3) * VOLTS * POWER_FACTOR) + 0.05 * self.q_rated
        return result

    def step(
        self, t: FloatArray, rng: np.random.Generator, mods: Modifiers
    ) -> tuple[dict[str, FloatArray], list[SimEvent]]:
        """Operating point from the shift schedule and demand, then condition readings."""
        z = rng.normal(size=(5, t.size))
        h = hour_of_day_local(t)
        shift = (h >= 6) & (h < 22) & (weekday_local(t) < 5)
        running = np.ones(t.size) if self.always_on else shift.astype(float)
        demand = 0.78 + 0.12 * np.sin(2 * np.pi * (h - self.demand_phase) / 24) + 0.02 * z[0]
        q = running * self.q_rated * demand
        ratio = q / self.q_rated
        pressure = running * self.head_bar * (1 - 0.35 * ratio**2) + 0.3
        current = running * self._current(q)
        indoor = 18.0 + 0.3 * self.weather.temperature_c(t)
        target = indoor + self.bearing_rise * current / self.i_rated + mods.heat_c
        start = self.bearing_c if self.bearing_c is not None else float(target[0])
        bearing, self.bearing_c = lag(target, BEARING_TAU_S, self.interval_s, start)
        wear = 1 + np.maximum(bearing - target + mods.heat_c, 0) / 15.0
        vib = running * self.vib_base * (1 + 0.8 * (ratio - 0.85) ** 2) * wear + 0.15
        return {
            "vibration_rms_mm_s": vib + 0.05 * np.abs(z[1]),
            "motor_current_a": current + 0.3 * z[2] * running,
            "bearing_temp_c": bearing + 0.15 * z[3],
            "pressure_bar": pressure + 0.03 * z[4],
            "flow_m3h": q,
        }, []
