"""Bridge monitor: strain follows the structure's daily temperature cycle and the traffic."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from simulators.kinds.base import KindModel, Modifiers, hour_of_day_local
from simulators.models import DeviceSpec, FloatArray, SimEvent


class BridgeModel(KindModel):
    """Strain, deflection, vibration and temperature of one span."""

    type_id = "bridge-monitor"
    steps: ClassVar[dict[str, float]] = {
        "strain_ue": 0.1,
        "deflection_mm": 0.01,
        "vibration_rms_g": 0.0001,
        "temp_c": 0.1,
    }
    scales: ClassVar[dict[str, float]] = {
        "strain_ue": 15.0,
        "deflection_mm": 1.0,
        "vibration_rms_g": 0.003,
        "temp_c": 1.0,
    }
    fault_codes = (
        ("B701", "warning", "strain gauge open circuit"),
        ("B702", "warning", "accelerometer saturation"),
        ("B810", "critical", "data logger reboot"),
    )

    def __init__(self, spec: DeviceSpec, start_s: float, interval_s: float) -> None:
        super().__init__(spec, start_s, interval_s)
        p = self.params
        self.strain0 = float(p.uniform(-200, 200))
        self.alpha = float(p.uniform(6, 12))  # µε/°C of restrained thermal strain
        self.load_gain = float(p.uniform(2, 5))  # µε per tonne of the heaviest vehicle
        self.defl_gain = float(p.uniform(0.2, 0.5))  # mm per tonne
        self.peak_veh_s = float(p.uniform(0.2, 0.6))  # rush-hour vehicles per second
        self.ref_c = 15.0

    def step(
        self, t: FloatArray, rng: np.random.Generator, mods: Modifiers
    ) -> tuple[dict[str, FloatArray], list[SimEvent]]:
        """Temperature, then traffic load, then the structural response."""
        n, dt = t.size, self.interval_s
        z = rng.normal(size=(4, n))
        temp = self.weather.temperature_c(t, lag_h=2.0, gain=0.7)
        h = hour_of_day_local(t)
        rush = np.exp(-(((h - 8.0) / 1.5) ** 2)) + np.exp(-(((h - 18.0) / 2.0) ** 2))
        rate = self.peak_veh_s * (0.1 + 0.3 * ((h > 6) & (h < 22)) + 0.6 * rush)
        cars = rng.poisson(rate * dt * 0.85)
        trucks = rng.poisson(rate * dt * 0.15)
        truck_t = rng.lognormal(np.log(20.0), 0.35, n)
        peak = np.where(trucks > 0, truck_t, np.where(cars > 0, 1.6, 0.0))
        dtemp = temp - self.ref_c
        vib = 0.002 + 0.0015 * np.sqrt(cars + trucks) + 0.0004 * peak
        return {
            "strain_ue": self.strain0 + self.alpha * dtemp + self.load_gain * peak + 2.0 * z[0],
            "deflection_mm": -self.defl_gain * peak + 0.05 * dtemp + 0.03 * z[1],
            "vibration_rms_g": np.abs(vib + 0.0005 * z[2]),
            "temp_c": temp + 0.1 * z[3],
        }, []
