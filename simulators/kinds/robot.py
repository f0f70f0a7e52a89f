"""Substation inspection robot: patrols a loop of checkpoints on a schedule, docks to charge."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from simulators.kinds.base import KindModel, Modifiers, hour_of_day_local, lag
from simulators.models import DeviceSpec, FaultKind, FloatArray, SimEvent

DOCK, PATROL, RETURN = 0, 1, 2
# Below this charge the robot abandons its patrol and heads home, like real units do.
LOW_BATTERY_PCT = 20.0
# A patrol only starts with enough charge to finish it.
START_BATTERY_PCT = 60.0
DWELL_S = 40.0  # camera pan/tilt and IR capture at one checkpoint
RESCUE_S = 3600.0  # time for staff to notice a stranded robot and carry it home


class RobotModel(KindModel):
    """Battery, drive, thermal and IR readings of one robot."""

    type_id = "substation-robot"
    steps: ClassVar[dict[str, float]] = {
        "battery_pct": 1.0,
        "battery_voltage_v": 0.01,
        "motor_temp_c": 0.1,
        "cpu_temp_c": 0.5,
        "speed_mps": 0.01,
        "route_position_m": 0.1,
        "ir_max_temp_c": 0.1,
        "ambient_temp_c": 0.1,
        "humidity_pct": 0.1,
        "wifi_rssi_dbm": 1.0,
        "odometer_km": 0.001,
    }
    # Not ir_max_temp_c: it is only reported at checkpoints, so a fault there could be unseen.
    scales: ClassVar[dict[str, float]] = {
        "battery_voltage_v": 0.5,
        "motor_temp_c": 3.0,
        "cpu_temp_c": 3.0,
        "ambient_temp_c": 1.5,
        "humidity_pct": 5.0,
        "wifi_rssi_dbm": 4.0,
    }
    process_faults = frozenset({FaultKind.OVERHEAT, FaultKind.BATTERY})
    overheat_metrics = ("motor_temp_c",)
    fault_codes = (
        ("E101", "warning", "wheel slip detected"),
        ("E204", "critical", "lidar not responding"),
        ("E305", "warning", "IR camera calibration drift"),
        ("E410", "critical", "charging contact failure"),
    )

    def __init__(self, spec: DeviceSpec, start_s: float, interval_s: float) -> None:
        super().__init__(spec, start_s, interval_s)
        p = self.params
        self.route_m = float(p.uniform(600, 1800))
        n_cp = int(p.integers(12, 31))
        self.cp_pos = np.sort(p.uniform(20, self.route_m - 20, n_cp)).tolist()
        self.cp_rise = p.uniform(3, 30, n_cp).tolist()
        self.v_mps = float(p.uniform(0.8, 1.2))
        self.period_s = float(p.choice([7200, 10800, 14400]))
        self.offset_s = float(p.uniform(0, self.period_s))
        self.drain_move = float(p.uniform(0.017, 0.023))  # %/s, ~25 % per patrol
        self.charge_rate = float(p.uniform(0.025, 0.035))  # %/s at the dock
        self.cpu_rise = float(p.uniform(15, 22))
        self.ap_m = float(p.uniform(0, self.route_m))
        self.phase, self.pos, self.odo_m = DOCK, 0.0, float(p.uniform(500, 5000)) * 1000
        self.soc = float(p.uniform(85, 100))
        self.motor_c: float | None = None
        self.next_start = self._slot_after(start_s)
        self.cp_idx, self.dwell, self.hot = 0, 0.0, 0.0
        self.patrol_t0, self.defects = 0.0, 0
        self.stranded_since = 0.0

    def _slot_after(self, t: float) -> float:
        return math.ceil((t - self.offset_s) / self.period_s) * self.period_s + self.offset_s

    def step(
        self, t: FloatArray, rng: np.random.Generator, mods: Modifiers
    ) -> tuple[dict[str, FloatArray], list[SimEvent]]:
        """Run the patrol state machine, then derive the sensor columns."""
        n, dt = t.size, self.interval_s
        noise = rng.normal(size=(8, n))
        out = {
            k: np.zeros(n) for k in ("speed", "pos", "soc", "moving", "charging", "active", "odo")
        }
        ir = np.full(n, np.nan)
        events: list[SimEvent] = []
        drains = mods.drain_factor.tolist()
        for i, now in enumerate(t.tolist()):
            moving, charging, at_cp = self._tick(now, dt, drains[i], events)
            out["speed"][i] = self.v_mps if moving else 0.0
            out["pos"][i], out["soc"][i] = self.pos, self.soc
            out["moving"][i], out["charging"][i] = moving, charging
            out["active"][i], out["odo"][i] = self.phase != DOCK, self.odo_m
            if at_cp:
                ir[i] = self.cp_rise[self.cp_idx - 1] + self.hot
        return self._columns(t, out, ir, noise, mods), events

    def _tick(
        self, now: float, dt: float, drain: float, events: list[SimEvent]
    ) -> tuple[bool, bool, bool]:
        if self.phase == DOCK:
            return False, self._dock(now, dt), False
        if self.soc <= 0.0:
            self._stranded(now, events)
            return False, False, False
        moving = self.dwell <= 0
        self.soc = max(0.0, self.soc - (self.drain_move if moving else 0.006) * dt * drain)
        if not moving:
            self.dwell -= dt
            return False, False, True
        step = self.v_mps * dt
        self.odo_m += step
        if self.phase == RETURN:
            self._drive_home(now, step, events)
            return True, False, False
        self.pos += step
        if self.cp_idx < len(self.cp_pos) and self.pos >= self.cp_pos[self.cp_idx]:
            self._arrive(now)
        elif self.pos >= self.route_m:
            self._finish(now, events, completed=True)
        elif self.soc < LOW_BATTERY_PCT:
            self.phase = RETURN
        return True, False, False

    def _dock(self, now: float, dt: float) -> bool:
        self.pos = 0.0
        charging = self.soc < 100.0
        self.soc = min(100.0, self.soc + self.charge_rate * dt)
        if now >= self.next_start:
            self.next_start = self._slot_after(now + 1)
            if self.soc >= START_BATTERY_PCT:
                self.phase, self.cp_idx, self.patrol_t0, self.defects = PATROL, 0, now, 0
        return charging

    def _arrive(self, now: float) -> None:
        self.pos = self.cp_pos[self.cp_idx]
        day = int(now // 86400)
        hot_rng = np.random.default_rng([self.spec.seed, day, self.cp_idx])
        self.hot = float(hot_rng.uniform(35, 80)) if hot_rng.random() < 0.01 else 0.0
        self.defects += self.hot > 0
        self.cp_idx += 1
        self.dwell = DWELL_S

    def _drive_home(self, now: float, step: float, events: list[SimEvent]) -> None:
        forward = self.pos > self.route_m / 2
        self.pos = self.pos + step if forward else self.pos - step
        if self.pos >= self.route_m or self.pos <= 0:
            self._finish(now, events, completed=False)

    def _stranded(self, now: float, events: list[SimEvent]) -> None:
        """A flat battery stops the robot in the yard until staff carry it to the dock."""
        self.stranded_since = self.stranded_since or now
        if now - self.stranded_since >= RESCUE_S:
            self.stranded_since = 0.0
            self._finish(now, events, completed=False, reason="battery_depleted")

    def _finish(
        self, now: float, events: list[SimEvent], *, completed: bool, reason: str = "low_battery"
    ) -> None:
        attrs: dict[str, object] = {
            "checkpoints_visited": self.cp_idx,
            "checkpoints_total": len(self.cp_pos),
            "duration_s": round(now - self.patrol_t0),
            "defects_found": int(self.defects),
            "completed": completed,
        }
        if not completed:
            attrs["aborted_reason"] = reason
        events.append(SimEvent(round(now * 1000), "inspection_completed", attrs=attrs))
        self.phase, self.pos = DOCK, 0.0

    def _columns(
        self, t: FloatArray, s: dict[str, FloatArray], ir: FloatArray, z: FloatArray, m: Modifiers
    ) -> dict[str, FloatArray]:
        ambient = self.weather.temperature_c(t)
        load = 0.8 + 0.4 * np.sin(2 * np.pi * (hour_of_day_local(t) - 8) / 24)
        motor_target = ambient + 25.0 * s["moving"] + 4.0 * s["active"] + m.heat_c
        motor, last = lag(motor_target, 600.0, self.interval_s, self.motor_c or float(ambient[0]))
        self.motor_c = last
        dist = np.abs(s["pos"] - self.ap_m)
        return {
            "battery_pct": s["soc"],
            "battery_voltage_v": 42.0
            + 0.12 * s["soc"]
            - 1.2 * s["moving"]
            + 1.5 * s["charging"]
            + 0.05 * z[0],
            "motor_temp_c": motor + 0.2 * z[1],
            "cpu_temp_c": ambient + self.cpu_rise + 12.0 * s["active"] + 0.8 * z[2],
            "speed_mps": np.where(s["moving"] > 0, s["speed"] + 0.03 * z[3], 0.0),
            "route_position_m": s["pos"],
            "ir_max_temp_c": ambient + ir * load + 0.5 * z[4],
            "ambient_temp_c": ambient + 0.2 * z[5],
            "humidity_pct": self.weather.humidity_pct(t) + 1.0 * z[6],
            "wifi_rssi_dbm": -40.0 - 22.0 * np.log10(1 + dist / 10.0) + 2.5 * z[7],
            "odometer_km": s["odo"] / 1000.0,
        }
