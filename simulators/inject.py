"""Applying planned faults to generated samples: process inputs, sensor errors, silence, codes."""

from __future__ import annotations

import numpy as np

from simulators.kinds.base import KindModel, Modifiers
from simulators.models import BoolArray, Fault, FaultKind, FloatArray, IntArray, SimEvent

K = FaultKind
# A landslide's velocity grows exponentially (the accelerating creep before failure that
# inverse-velocity methods extrapolate); it starts at 2 % of its final rate.
_LANDSLIDE_START = 0.02


def _progress(fault: Fault, ts: IntArray) -> FloatArray:
    """0 at the fault start, 1 at its end."""
    span = max(fault.end_ms - fault.start_ms, 1)
    result: FloatArray = np.clip((ts - fault.start_ms) / span, 0.0, 1.0)
    return result


def modifiers(faults: list[Fault], ts: IntArray) -> Modifiers:
    """Process-fault inputs for the model over sample times ts."""
    mods = Modifiers.neutral(ts.size)
    for f in faults:
        on = f.active(ts)
        if not on.any():
            continue
        x = _progress(f, ts)
        if f.kind == K.OVERHEAT:
            # Heating builds over the first 70 % of the window, then holds until repair.
            mods.heat_c += np.where(on, f.magnitude * np.minimum(x / 0.7, 1.0), 0.0)
        elif f.kind == K.BATTERY:
            mods.drain_factor = np.where(on, mods.drain_factor * f.magnitude, mods.drain_factor)
        elif f.kind == K.LANDSLIDE:
            growth = f.magnitude * _LANDSLIDE_START ** (1.0 - x)
            mods.slide_mm_h += np.where(on, growth, 0.0)
    return mods


def apply_sensor_faults(
    faults: list[Fault], ts: IntArray, cols: dict[str, FloatArray], stuck: dict[Fault, float]
) -> None:
    """Overwrite measured values in place with spikes, steps, drifts, stuck values and noise."""
    for f in faults:
        on = f.active(ts)
        if not on.any() or f.kind not in _SENSOR_OPS:
            continue
        for metric in f.metrics:
            col = cols.get(metric)
            if col is not None:
                _SENSOR_OPS[f.kind](f, ts, on, col, stuck)


def _spike(f: Fault, ts: IntArray, on: BoolArray, col: FloatArray, _: dict[Fault, float]) -> None:
    col[on] += f.magnitude


def _step(f: Fault, ts: IntArray, on: BoolArray, col: FloatArray, _: dict[Fault, float]) -> None:
    col[on] += f.magnitude


def _drift(f: Fault, ts: IntArray, on: BoolArray, col: FloatArray, _: dict[Fault, float]) -> None:
    col[on] += f.magnitude * _progress(f, ts)[on]


def _stuck(
    f: Fault, ts: IntArray, on: BoolArray, col: FloatArray, held: dict[Fault, float]
) -> None:
    valid = on & ~np.isnan(col)
    if f not in held and valid.any():
        held[f] = float(col[np.argmax(valid)])
    if f in held:
        col[valid] = held[f]


def _noise(f: Fault, ts: IntArray, on: BoolArray, col: FloatArray, _: dict[Fault, float]) -> None:
    rng = np.random.default_rng([f.seed, int(ts[0])])
    col[on] += rng.normal(0.0, f.magnitude, int(on.sum()))


_SENSOR_OPS = {K.SPIKE: _spike, K.STEP: _step, K.DRIFT: _drift, K.STUCK: _stuck, K.NOISE: _noise}


def silent(faults: list[Fault], ts: IntArray) -> BoolArray:
    """Samples the device never sends (communication loss)."""
    mask = np.zeros(ts.size, dtype=bool)
    for f in faults:
        if f.kind == K.COMM_LOSS:
            mask |= f.active(ts)
    return mask


def code_events(faults: list[Fault], model: type[KindModel], w0: int, w1: int) -> list[SimEvent]:
    """fault_code events starting in [w0, w1)."""
    texts = {code: (severity, text) for code, severity, text in model.fault_codes}
    out = []
    for f in faults:
        if f.kind == K.FAULT_CODE and w0 <= f.start_ms < w1 and f.code:
            severity, text = texts.get(f.code, ("warning", ""))
            out.append(SimEvent(f.start_ms, "fault_code", f.code, severity, {"text": text}))
    return out
