"""Alert rules of the built-in device types (limits with their sources) and rule factories.

Limits are conservative defaults an operator would start from; the self-tuning detectors
cover everything the catalog does not name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from analytics.detectors.regime import Regime
from analytics.detectors.relation import Relation
from analytics.detectors.rules import RateRule, RiseRule, SlopeRule, ThresholdRule

Rule = ThresholdRule | RateRule | SlopeRule | RiseRule


@dataclass(frozen=True, slots=True)
class OfflinePolicy:
    """A device is offline after `k` reporting intervals of silence."""

    k: float = 5.0


def _pump() -> list[Rule]:
    return [
        # Rolling bearings are usually alarmed at 80-85 °C and tripped near 95-100 °C.
        ThresholdRule("bearing_temp_high", "bearing_temp_c", ">", 85.0, 120, 3.0, "major"),
        ThresholdRule("bearing_temp_trip", "bearing_temp_c", ">", 95.0, 30, 3.0, "critical"),
        # ISO 10816-3, group 2 machines on flexible foundations: zone C/D boundary 7.1 mm/s.
        ThresholdRule("vibration_zone_d", "vibration_rms_mm_s", ">", 7.1, 60, 0.5, "major"),
        RateRule("bearing_temp_rate", "bearing_temp_c", 5.0, "warning"),
    ]


def _robot() -> list[Rule]:
    return [
        ThresholdRule("battery_low", "battery_pct", "<", 15.0, 60, 5.0, "warning"),
        ThresholdRule("motor_overtemp", "motor_temp_c", ">", 90.0, 120, 5.0, "major"),
        ThresholdRule("cpu_overtemp", "cpu_temp_c", ">", 85.0, 120, 5.0, "warning"),
        # An infrared hot spot on substation equipment. DL/T 664 judges infrared findings by
        # temperature rise over the reference (ambient) and relative difference; a 40 °C rise
        # is far above what healthy loaded equipment shows in sunshine.
        RiseRule("ir_hotspot", "ir_max_temp_c", "ambient_temp_c", 40.0, "major"),
    ]


def _slope() -> list[Rule]:
    return [
        # 2 mm/day: a GNSS station's daily noise is around 1-2 mm, so slower creep is noise.
        # One warning per station: GNSS displacement and the crack meter feed the same key,
        # so a station's level is the higher of the two and one movement is one alert.
        # Movement the station's pore pressure explains (rain-fed creep) is not warned.
        SlopeRule("slope_warning", "gnss_disp_mm", 2.0, reference="pore_pressure_kpa"),
        SlopeRule("slope_warning", "crack_width_mm", 1.0, reference="pore_pressure_kpa"),
        ThresholdRule("heavy_rain", "rainfall_mm", ">", 30.0, 0, 5.0, "warning"),
    ]


def _bridge() -> list[Rule]:
    return [
        ThresholdRule("strain_high", "strain_ue", ">", 1500.0, 60, 100.0, "major"),
        ThresholdRule("deflection_high", "deflection_mm", ">", 100.0, 60, 10.0, "major"),
        ThresholdRule("vibration_high", "vibration_rms_g", ">", 0.5, 60, 0.05, "warning"),
    ]


FACTORIES: dict[str, Callable[[], list[Rule]]] = {
    "pump-motor": _pump,
    "substation-robot": _robot,
    "slope-monitor": _slope,
    "bridge-monitor": _bridge,
}


# Metrics the self-tuning detectors watch. Duty-cycle and cumulative metrics (a robot's speed,
# route position, odometer and state of charge; rain) switch regimes or only grow by design,
# so catalog rules judge them instead.
UNWATCHED = {
    "substation-robot": frozenset(
        {"speed_mps", "route_position_m", "odometer_km", "battery_pct", "ir_max_temp_c"}
    ),
    "slope-monitor": frozenset({"rainfall_mm"}),
}


@dataclass(frozen=True, slots=True)
class Context:
    """Readings of `explained` metrics within `for_s` after `driver` >= `at_least` are
    explained by it (rain soaks the soil, raises pore pressure and speeds up creep): detector
    openings on them are muted; catalog rules (the slope warning) still apply."""

    driver: str
    at_least: float
    for_s: float
    explained: frozenset[str]
    # rain moves levels slowly; it does not make a sensor spike, stick or get noisy ...
    detectors: frozenset[str] = frozenset({"drift"})
    # ... except where the ground itself jumps: a crack opens in steps after rain
    jumps: frozenset[str] = frozenset()

    def explains(self, metric: str | None, detector: str) -> bool:
        """Whether an opening of this detector on this metric is explained by the driver."""
        if metric not in self.explained:
            return False
        return detector in self.detectors or (detector == "spike" and metric in self.jumps)


CONTEXTS = {
    # Soil drains back with an e-folding time of about three days, so a wet spell's
    # moisture and pore pressure take ten days to settle within a sensor's noise.
    "slope-monitor": Context(
        "rainfall_mm",
        0.2,
        10 * 86400.0,
        frozenset(
            {"soil_moisture_pct", "pore_pressure_kpa", "crack_width_mm"}
            | {"gnss_disp_mm", "tilt_x_deg", "tilt_y_deg"}
        ),
        jumps=frozenset(),
    ),
}


# A stopped pump draws no current; its bearings reach operating temperature about an hour
# after a start (a housing time constant of ~20 minutes, three of them). Plant pumps on a
# two-shift weekday schedule run about half of the week.
REGIMES = {"pump-motor": Regime("motor_current_a", 0.5, 3600.0, duty=0.5)}

# Metrics the physics of a type ties together, judged by their residual (see relation.py).
RELATIONS: dict[str, tuple[Relation, ...]] = {
    # A vehicle strains and bends a span at once, and restrained thermal strain and thermal
    # deflection both follow the deck's temperature: strain is linear in deflection and
    # temperature, so a gauge's spike or drift stands out of a residual free of traffic.
    "bridge-monitor": (Relation("strain_ue", ("deflection_mm", "temp_c")),),
    # Along the pump curve, shaft power (so current) and head are smooth functions of flow;
    # a quadratic covers the flows a duty point spans.
    "pump-motor": (
        Relation("motor_current_a", ("flow_m3h",), degree=2),
        Relation("pressure_bar", ("flow_m3h",), degree=2),
    ),
}


def watched(device_type: str, metric: str) -> bool:
    """Whether the generic detectors judge this metric of this device type."""
    return metric not in UNWATCHED.get(device_type, frozenset())


# A week: long enough to see daily cycles and a change of weather before judging.
WARMUP_S = 7 * 86400.0


def warmup_readings(reporting_interval_s: float, warmup_s: float = WARMUP_S) -> int:
    """A week of readings (daily and weekly cycles, weather), at least 240."""
    return max(240, int(warmup_s / reporting_interval_s))


def rule_hold_s(name: str, default: float) -> float:
    """How long a catalog rule's condition must stay clear before its alert clears."""
    return _holds().get(name, default)


@cache
def _holds() -> dict[str, float]:
    return {r.name: r.hold_s for f in FACTORIES.values() for r in f() if isinstance(r, SlopeRule)}


def rules_for(device_type: str) -> list[Rule]:
    """Fresh rule objects (each holds its own streaming state) for a device type."""
    factory = FACTORIES.get(device_type)
    return factory() if factory else []
