"""Operating regimes: a duty-cycled machine is judged against itself in the same regime.

A pump on a shift schedule stops every evening: its current and flow drop to zero, its
pressure and vibration to their idle floor, and every start is a step on every metric. Those
are the machine working, not its sensors failing. So each metric gets one detector for the
running regime and one for the stopped regime, each learning and judging only readings of
its own regime, and readings taken while the machine settles after a switch are judged by
neither (catalog rules still see every reading).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from analytics.detectors.univariate import BatchVerdict, SeriesDetector

F = NDArray[np.float64]
B = NDArray[np.bool_]
RUNNING, STOPPED, SETTLING = 1, 0, -1


@dataclass(frozen=True, slots=True)
class Regime:
    """The machine runs while `driver` > `above`; readings count `settle_s` after a switch."""

    driver: str
    above: float
    settle_s: float
    # the share of the time the machine typically runs: a week's warm-up counts running
    # readings only, so it asks for this share of a week's readings
    duty: float = 1.0

    def __post_init__(self) -> None:
        if self.settle_s < 0 or not 0 < self.duty <= 1:
            raise ValueError("settle_s must not be negative and duty must be in (0, 1]")


@dataclass(slots=True)
class RegimeState:
    """Switch times of one device's driver, streaming across batches."""

    regime: Regime
    # the last known switch: (device time, running after it); unknown before the first reading
    switch_t: F = field(default_factory=lambda: np.empty(0))
    switch_on: B = field(default_factory=lambda: np.empty(0, dtype=bool))

    def observe(self, ts: F, values: F) -> None:
        """Fold in driver readings (device-time order)."""
        ok = np.isfinite(values)
        ts, on = np.asarray(ts, float)[ok], np.asarray(values, float)[ok] > self.regime.above
        if not len(ts):
            return
        prev = self.switch_on[-1:] if len(self.switch_on) else ~on[:1]
        changed = on != np.concatenate([prev, on[:-1]])
        self.switch_t = np.concatenate([self.switch_t[-1:], ts[changed]])
        self.switch_on = np.concatenate([self.switch_on[-1:], on[changed]])

    def phase(self, ts: F) -> NDArray[np.int64]:
        """Per device time: RUNNING or STOPPED once settled, SETTLING just after a switch."""
        if not len(self.switch_t):
            return np.full(len(ts), RUNNING, dtype=np.int64)
        i = np.searchsorted(self.switch_t, ts, side="right") - 1
        j = np.maximum(i, 0)
        settled = ts - self.switch_t[j] >= self.regime.settle_s
        state = np.where(self.switch_on[j], RUNNING, STOPPED)
        out = np.where(i < 0, RUNNING, np.where(settled, state, SETTLING))
        return out.astype(np.int64)


def regime_verdict(
    phase: NDArray[np.int64], running: SeriesDetector, stopped: SeriesDetector, x: F, ts: F
) -> BatchVerdict:
    """Each regime's detector judges its own readings; settling readings are not judged."""
    run = running.update(np.where(phase == RUNNING, x, np.nan), ts)
    idle = stopped.update(np.where(phase == STOPPED, x, np.nan), ts)
    use = phase == STOPPED
    for name in BatchVerdict.__slots__:
        a = getattr(run, name)
        a[use] = getattr(idle, name)[use]
    return run
