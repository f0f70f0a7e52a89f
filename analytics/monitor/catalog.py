"""A device type's detection as the runtime uses it: catalog rules, regime and relations built
from the type's stored data (registry/catalog.py seeds the built-in types), plus the metric
scope and context of the built-in types and the warm-up length."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analytics.detectors.regime import Regime
from analytics.detectors.relation import Relation
from analytics.detectors.rules import RateRule, RiseRule, SlopeRule, ThresholdRule
from registry import service as registry

Rule = ThresholdRule | RateRule | SlopeRule | RiseRule


_KINDS: dict[str, type[Rule]] = {
    "threshold": ThresholdRule,
    "rate": RateRule,
    "slope": SlopeRule,
    "rise": RiseRule,
}
# The parameters a stored rule may set per kind (the rest is streaming state).
_PARAMS = {
    "threshold": {"name", "metric", "op", "limit", "for_s", "hysteresis", "severity"},
    "rate": {"name", "metric", "max_per_min", "severity", "window_s"},
    "slope": {"name", "metric", "v_ref_per_day", "reference", "hold_s"},
    "rise": {"name", "metric", "reference", "limit", "severity", "hysteresis"},
}


def rule_from(spec: Mapping[str, Any]) -> Rule:
    """A fresh rule object (with its own streaming state) from its stored data."""
    kind = spec.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"unknown rule kind {kind!r}: use one of {sorted(_KINDS)}")
    params = {k: v for k, v in spec.items() if k != "kind"}
    unknown = set(params) - _PARAMS[kind]
    if unknown:
        raise ValueError(f"{kind} rule: unknown fields {sorted(unknown)}")
    return _KINDS[kind](**params)


@dataclass(frozen=True, slots=True)
class Detection:
    """A device type's catalog rules, operating regime and relations, from the type's data."""

    rule_specs: tuple[Mapping[str, Any], ...] = ()
    regime: Regime | None = None
    relations: tuple[Relation, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Detection:
        """From the type's stored `detection` (None or empty: no rules, regime or relations)."""
        data = data or {}
        specs = tuple(data.get("rules") or ())
        for spec in specs:
            rule_from(spec)  # refuse bad data here, not on the first reading
        reg = data.get("regime")
        rels = tuple(
            Relation(r["target"], tuple(r["inputs"]), r.get("degree", 1))
            for r in data.get("relations") or ()
        )
        return cls(specs, Regime(**reg) if reg else None, rels)

    def rules(self) -> list[Rule]:
        """Fresh rule objects (each holds its own streaming state)."""
        return [rule_from(spec) for spec in self.rule_specs]

    def hold_s(self, name: str, default: float) -> float:
        """How long a catalog rule's condition must stay clear before its alert clears."""
        holds = {r.name: r.hold_s for r in self.rules() if isinstance(r, SlopeRule)}
        return holds.get(name, default)


def builtin(device_type: str) -> Detection:
    """The seeded detection of a built-in type (for tools without a database)."""
    return Detection.from_data(registry.builtin_detection(device_type))


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


def watched(device_type: str, metric: str) -> bool:
    """Whether the generic detectors judge this metric of this device type."""
    return metric not in UNWATCHED.get(device_type, frozenset())


# A week: long enough to see daily cycles and a change of weather before judging.
WARMUP_S = 7 * 86400.0


def warmup_readings(reporting_interval_s: float, warmup_s: float = WARMUP_S) -> int:
    """A week of readings (daily and weekly cycles, weather), at least 240."""
    return max(240, int(warmup_s / reporting_interval_s))
