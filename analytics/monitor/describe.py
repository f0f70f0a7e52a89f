"""Evidence and the sentence a person reads for each kind of finding."""

from __future__ import annotations

from typing import Any

import numpy as np

from analytics.detectors.relation import Relation
from analytics.detectors.rules import SLOPE_LEVELS, Condition
from analytics.detectors.tracker import Signal
from analytics.detectors.univariate import BatchVerdict, SeriesDetector


def evidence(
    kind: str,
    i: int | None,
    cond: Condition,
    verdict: BatchVerdict | None,
    detector: SeriesDetector,
) -> dict[str, Any]:
    """The numbers behind a finding, taken at its peak reading."""
    if i is None:
        return {}
    ev: dict[str, Any] = {"value": _f(cond.value[i]), "threshold": _f(cond.threshold[i])}
    lim = detector.limits
    if verdict is not None and lim is not None:
        ev["score"] = _f(verdict.score[i])
        ev.update(
            baseline=_f(verdict.baseline[i]),
            z=_f(verdict.z[i]),
            cusum=_f(verdict.cusum[i]),
            run=int(verdict.run[i]),
            noise_ratio=_f(verdict.noise_ratio[i]),
            limits={
                "spike_z": lim.spike_z,
                "cusum_h": lim.cusum_h,
                "stuck_run": lim.stuck_run,
                "noise_ratio": lim.noise_ratio,
                "level": lim.level,
            },
        )
        ev["threshold"] = _detector_threshold(kind, ev)
    if kind == "slope":
        ev["level"] = SLOPE_LEVELS[int(cond.severity[i]) + 1]
        ev["angle_deg"] = _f(cond.strength[i])
    return ev


def _detector_threshold(kind: str, ev: dict[str, Any]) -> float | None:
    limits = ev["limits"]
    key = {"spike": "spike_z", "drift": "cusum_h", "stuck": "stuck_run", "noise": "noise_ratio"}
    return float(limits[key[kind]]) if kind in key else None


def _f(v: Any) -> float | None:
    x = float(v)
    return x if np.isfinite(x) else None


def duration(seconds: float) -> str:
    """A short human duration: 45 s, 3 min, 2.5 h, 3 d (at least 1 s)."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 86400:.0f} d"


def _far(z: float) -> str:
    """How far from normal a robust z of this size reads to a person (the number stays in
    the evidence)."""
    return "far" if abs(z) >= 12 else "well" if abs(z) >= 6 else "clearly"


def sentence(kind: str, metric: str, unit: str, sig: Signal, ev: dict[str, Any]) -> str:
    """A sentence an operator can read, e.g. 'bearing_temp_c 92.4 °C, well above its recent
    median 60.1 °C for 3 min'; detector quantities (MADs, CUSUM) stay in the evidence."""
    u = f" {unit}" if unit else ""
    if not ev:
        return ""
    v = ev.get("value")
    val = f"{v:.4g}{u}" if v is not None else "?"
    span = _span(sig)
    if kind == "spike":
        z, base = ev.get("z") or 0.0, ev.get("baseline") or 0.0
        side = "above" if z >= 0 else "below"
        return f"{metric} {val}, {_far(z)} {side} its recent median {base:.4g}{u}{span}"
    if kind == "drift":
        lim = ev.get("limits", {})
        return (
            f"{metric} {val} drifted away from its usual level {lim.get('level', 0):.4g}{u}{span}"
        )
    if kind == "stuck":
        return f"{metric} stuck at {val} for {ev.get('run')} readings{span}"
    if kind == "noise":
        return f"{metric} noise {ev.get('noise_ratio') or 0:.1f}x its usual level{span}"
    if kind == "slope":
        return (
            f"{metric} moving {abs(v or 0):.2f}{u}/day, tangent angle "
            f"{ev.get('angle_deg') or 0:.0f}°: {ev.get('level')} warning{span}"
        )
    if kind == "rise":
        return f"{metric} {v or 0:.1f}{u} above ambient, limit {ev.get('threshold')}{u}{span}"
    if kind == "rate":
        return f"{metric} changing {v or 0:.3g}{u}/min, limit {ev.get('threshold')}{u}/min"
    limit = ev.get("threshold") or 0.0
    return f"{metric} {val} beyond its limit {limit:.4g}{u}{span}"


def relation_sentence(kind: str, rel: Relation, unit: str, sig: Signal, ev: dict[str, Any]) -> str:
    """e.g. 'strain_ue 412 µε, 180 µε above what deflection_mm and temp_c predict (...)'."""
    if not ev:
        return ""
    u = f" {unit}" if unit else ""
    value, predicted = ev.get("value"), ev.get("predicted")
    off = (value or 0.0) - (predicted or 0.0)
    side = "above" if off >= 0 else "below"
    inputs = " and ".join(rel.inputs)
    span = _span(sig)
    head = f"{rel.target} {value or 0:.4g}{u}, {abs(off):.4g}{u} {side} what {inputs} predict"
    if kind == "drift":
        return f"{head}, drifting{span}"
    return f"{head}{span}"


def _span(sig: Signal) -> str:
    """' for 3 min': how long the episode has lasted so far (empty before it has lasted 1 s,
    so a sentence never says 'for 0 s')."""
    if sig.last_ts is None or sig.episode_start is None or sig.last_ts - sig.episode_start < 1:
        return ""
    return f" for {duration(sig.last_ts - sig.episode_start)}"
