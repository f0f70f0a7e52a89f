"""Slope geohazard station: rain soaks the soil, pore pressure rises, the slope creeps faster."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from simulators.kinds.base import KindModel, Modifiers, hour_of_day_local
from simulators.models import DeviceSpec, FaultKind, FloatArray, SimEvent

TIP_MM = 0.2  # tipping-bucket rain gauge resolution
SATURATION_PCT = 45.0  # volumetric water content of a saturated loam
DRY_TAU_S = 3 * 86_400  # soil drains back to field capacity over days
PORE_TAU_S = 2 * 3600  # piezometer lags infiltration by hours


class SlopeModel(KindModel):
    """GNSS, tilt, crack, rain, soil moisture, pore pressure and battery of one station."""

    type_id = "slope-monitor"
    steps: ClassVar[dict[str, float]] = {
        "gnss_disp_mm": 0.1,
        "tilt_x_deg": 0.001,
        "tilt_y_deg": 0.001,
        "crack_width_mm": 0.01,
        "rainfall_mm": TIP_MM,
        "soil_moisture_pct": 0.1,
        "pore_pressure_kpa": 0.1,
        "battery_v": 0.01,
    }
    scales: ClassVar[dict[str, float]] = {
        "gnss_disp_mm": 3.0,
        "tilt_x_deg": 0.01,
        "tilt_y_deg": 0.01,
        "crack_width_mm": 0.1,
        "soil_moisture_pct": 2.0,
        "pore_pressure_kpa": 3.0,
        "battery_v": 0.1,
    }
    process_faults = frozenset({FaultKind.LANDSLIDE})
    landslide_metrics = ("gnss_disp_mm", "tilt_x_deg", "tilt_y_deg", "crack_width_mm")
    fault_codes = (
        ("S501", "warning", "GNSS fix lost"),
        ("S610", "warning", "solar charge controller fault"),
        ("S702", "critical", "inclinometer communication error"),
    )

    def __init__(self, spec: DeviceSpec, start_s: float, interval_s: float) -> None:
        super().__init__(spec, start_s, interval_s)
        p = self.params
        self.creep_mm_h = float(p.uniform(0.005, 0.05)) / 24
        self.field_cap = float(p.uniform(18, 28))
        self.pore_base = float(p.uniform(10, 60))
        self.pore_gain = float(p.uniform(2.0, 4.0))  # kPa per % moisture above field capacity
        self.slip_gain = float(p.uniform(0.002, 0.006))  # mm/h per kPa^1.5 of excess pressure
        self.tilt0 = p.uniform(-2, 2, 2).tolist()
        self.tilt_gain = p.uniform(-0.004, 0.004, 2).tolist()
        self.crack0 = float(p.uniform(1, 20))
        self.disp0 = float(p.uniform(0, 80))
        self.disp, self.moisture = self.disp0, self.field_cap
        self.pore, self.bucket = self.pore_base, 0.0

    def step(
        self, t: FloatArray, rng: np.random.Generator, mods: Modifiers
    ) -> tuple[dict[str, FloatArray], list[SimEvent]]:
        """Integrate soil water, pore pressure and displacement sample by sample."""
        n, dt = t.size, self.interval_s
        z = rng.normal(size=(7, n))
        rain = self.weather.rain_mm_h(t) * dt / 3600
        cols = {k: np.zeros(n) for k in ("disp", "moist", "pore", "tips")}
        a_pore = 1 - math.exp(-dt / PORE_TAU_S)
        slide = mods.slide_mm_h.tolist()
        for i, r in enumerate(rain.tolist()):
            self.moisture += 0.08 * r - (self.moisture - self.field_cap) * dt / DRY_TAU_S
            self.moisture = min(self.moisture, SATURATION_PCT)
            target = self.pore_base + self.pore_gain * max(0.0, self.moisture - self.field_cap)
            self.pore += a_pore * (target - self.pore)
            excess = max(0.0, self.pore - self.pore_base - 15.0)
            self.disp += (self.creep_mm_h + self.slip_gain * excess**1.5 + slide[i]) * dt / 3600
            self.bucket += r
            tips = math.floor(self.bucket / TIP_MM + 1e-9)
            self.bucket -= tips * TIP_MM
            cols["disp"][i], cols["moist"][i] = self.disp, self.moisture
            cols["pore"][i], cols["tips"][i] = self.pore, tips * TIP_MM
        moved = cols["disp"] - self.disp0
        sun = np.maximum(0.0, np.sin(2 * np.pi * (hour_of_day_local(t) - 6) / 24))
        return {
            "gnss_disp_mm": cols["disp"] + 1.5 * z[0],
            "tilt_x_deg": self.tilt0[0] + self.tilt_gain[0] * moved + 0.002 * z[1],
            "tilt_y_deg": self.tilt0[1] + self.tilt_gain[1] * moved + 0.002 * z[2],
            "crack_width_mm": self.crack0 + 0.3 * moved + 0.01 * z[3],
            "rainfall_mm": cols["tips"],
            "soil_moisture_pct": cols["moist"] + 0.3 * z[4],
            "pore_pressure_kpa": cols["pore"] + 0.5 * z[5],
            "battery_v": 12.4 + 1.3 * sun + 0.02 * z[6],
        }, []
