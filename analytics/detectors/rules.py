"""Catalog rules: thresholds held for a duration, rate of change, and the slope early warning.

Each rule judges a batch of one metric's readings in device time and returns a `Condition`:
per reading, whether the rule fires, whether it may clear (hysteresis), the severity and the
value/threshold behind it. Rules keep the little state they need between batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from analytics.detectors.hydro import PoreResponse
from analytics.detectors.windows import true_runs

F = NDArray[np.float64]
Ints = NDArray[np.int64]

# Severity ranks shared by every layer (alerts store the name).
SEVERITIES = ("info", "warning", "major", "critical")


def severity_rank(name: str) -> int:
    """0 (info) .. 3 (critical); raises on an unknown name."""
    try:
        return SEVERITIES.index(name)
    except ValueError:
        raise ValueError(f"unknown severity {name!r}; use one of {SEVERITIES}") from None


@dataclass(slots=True)
class Condition:
    """Per-reading verdict of one rule or detector for one alert key."""

    firing: NDArray[np.bool_]
    clear_ok: NDArray[np.bool_]
    severity: Ints
    value: F
    threshold: F
    # how far past its limit each reading is (picks the peak reading of an episode)
    strength: F

    @staticmethod
    def quiet(n: int) -> Condition:
        """A batch where nothing fires and everything may clear."""
        return Condition(
            np.zeros(n, bool),
            np.ones(n, bool),
            np.zeros(n, np.int64),
            np.full(n, np.nan),
            np.full(n, np.nan),
            np.zeros(n),
        )


@dataclass(slots=True)
class ThresholdRule:
    """`metric op limit` held for `for_s` seconds of device time; clears past the hysteresis."""

    name: str
    metric: str
    op: str
    limit: float
    for_s: float = 0.0
    hysteresis: float = 0.0
    severity: str = "warning"
    since: float | None = None

    def __post_init__(self) -> None:
        if self.op not in (">", "<"):
            raise ValueError(f"rule {self.name}: op must be '>' or '<'")
        if self.for_s < 0 or self.hysteresis < 0:
            raise ValueError(f"rule {self.name}: duration and hysteresis must be >= 0")
        severity_rank(self.severity)

    def evaluate(self, ts: F, x: F) -> Condition:
        """Judge readings (ts in epoch seconds, ascending)."""
        sign = 1.0 if self.op == ">" else -1.0
        over = sign * (x - self.limit) > 0
        clear_ok = sign * (x - (self.limit - sign * self.hysteresis)) <= 0
        start = _run_starts(ts, over, self.since)
        self.since = float(start[-1]) if len(x) and over[-1] else None
        firing = over & (ts - start >= self.for_s)
        sev = np.full(len(x), severity_rank(self.severity), np.int64)
        return Condition(
            firing, clear_ok & ~over, sev, x, np.full(len(x), self.limit), sign * (x - self.limit)
        )


@dataclass(slots=True)
class RateRule:
    """|change| per minute over the last `window_s` of device time above `max_per_min`."""

    name: str
    metric: str
    max_per_min: float
    severity: str = "warning"
    # Five minutes averages out reading-to-reading noise but still sees a fast rise.
    window_s: float = 300.0
    hist_t: F = field(default_factory=lambda: np.empty(0))
    hist_x: F = field(default_factory=lambda: np.empty(0))

    def evaluate(self, ts: F, x: F) -> Condition:
        """Judge readings (ts in epoch seconds, ascending)."""
        n = len(x)
        t = np.concatenate([self.hist_t, ts])
        d = np.concatenate([self.hist_x, x])
        rate = _velocity(t, d, self.window_s)[len(self.hist_t) :] / 1440.0
        keep = t >= t[-1] - 2 * self.window_s if len(t) else np.zeros(0, bool)
        self.hist_t, self.hist_x = t[keep], d[keep]
        firing = np.nan_to_num(np.abs(rate)) > self.max_per_min
        sev = np.full(n, severity_rank(self.severity), np.int64)
        return Condition(
            firing, ~firing, sev, rate, np.full(n, self.max_per_min), np.nan_to_num(np.abs(rate))
        )


@dataclass(slots=True)
class RiseRule:
    """`metric` minus the latest `reference` reading above `limit` (an infrared hot spot's
    temperature rise over ambient, which is how DL/T 664 judges infrared findings)."""

    name: str
    metric: str
    reference: str
    limit: float
    severity: str = "major"
    hysteresis: float = 5.0
    ref_t: F = field(default_factory=lambda: np.empty(0))
    ref_x: F = field(default_factory=lambda: np.empty(0))

    def set_reference(self, ts: F, x: F) -> None:
        """Reference readings of this batch (kept: the latest one before the batch too)."""
        keep = max(len(self.ref_x) - 1, 0)
        self.ref_t = np.concatenate([self.ref_t[keep:], np.asarray(ts, float)])
        self.ref_x = np.concatenate([self.ref_x[keep:], np.asarray(x, float)])

    def evaluate(self, ts: F, x: F) -> Condition:
        """Judge readings against the latest reference reading at or before each one."""
        n = len(x)
        idx = np.searchsorted(self.ref_t, ts, side="right") - 1
        ref = (
            np.where(idx >= 0, self.ref_x[np.maximum(idx, 0)], np.nan)
            if len(self.ref_t)
            else np.full(n, np.nan)
        )
        rise = x - ref
        firing = np.nan_to_num(rise, nan=-np.inf) > self.limit
        clear_ok = ~(np.nan_to_num(rise, nan=-np.inf) > self.limit - self.hysteresis)
        sev = np.full(n, severity_rank(self.severity), np.int64)
        limit = np.full(n, self.limit)
        return Condition(firing, clear_ok, sev, rise, limit, np.nan_to_num(rise - self.limit))


# Tangent angles of the improved tangential-angle method (Xu Qiang et al., 2009): 45° marks
# constant-velocity creep, 80° and 85° the medium-acceleration and imminent-failure stages.
SLOPE_LEVELS = ("none", "blue", "yellow", "orange", "red")
# Hysteresis: tan 40° = 0.84, so a warning clears once the rate is 16 % below the reference.
CLEAR_ANGLE = 40.0


def slope_level(angle_deg: F, accel: F) -> Ints:
    """Warning level 0-4 (none/blue/yellow/orange/red) from tangent angle and acceleration."""
    accelerating = accel > 0
    level = np.where(angle_deg >= 45.0, 1, 0)
    level = np.where((angle_deg > 45.0) & accelerating, 2, level)
    level = np.where((angle_deg >= 80.0) & accelerating, 3, level)
    level = np.where((angle_deg >= 85.0) & accelerating, 4, level)
    return level.astype(np.int64)


@dataclass(slots=True)
class SlopeRule:
    """Four-level slope warning from cumulative displacement (velocity and acceleration).

    Velocity is the displacement change over `window_s`; the tangent angle is
    atan(v / v_ref), v_ref being this slope's steady creep rate: the 99th percentile of its
    hourly rates while not accelerating over the last 30 days (wet-season creep included),
    after a first week, never below `v_ref_per_day` (the sensor's noise). Levels map to
    severities blue→info, yellow→warning, orange→major, red→critical.
    """

    name: str
    metric: str
    v_ref_per_day: float
    # The metric whose readings explain movement (pore pressure): with it, only movement
    # faster than the slope's own response to it raises a warning (see hydro.PoreResponse).
    reference: str | None = None
    # Daily rates (mm/d) are what the method and field practice use; the displacement is
    # first averaged over an hour so single-reading GNSS noise does not reach the rate.
    window_s: float = 86400.0
    smooth_s: float = 3600.0
    # A daily rate wobbles around the line for hours as a rain-fed creep peaks: the alert
    # clears only once the angle is below CLEAR_ANGLE for six hours (one alert per event).
    hold_s: float = 6 * 3600.0
    learn_s: float = 7 * 86400.0
    memory_s: float = 30 * 86400.0
    v_ref: float = 0.0
    samples: list[float] = field(default_factory=list)
    sample_t: float = -np.inf
    first_t: float | None = None
    hist_t: F = field(default_factory=lambda: np.empty(0))
    hist_x: F = field(default_factory=lambda: np.empty(0))
    response: PoreResponse | None = None

    def set_reference(self, ts: F, x: F) -> None:
        """Readings of the reference metric (pore pressure) for this batch."""
        if self.response is None:
            self.response = PoreResponse(self.v_ref_per_day)
        self.response.set_driver(np.asarray(ts, float), np.asarray(x, float))

    def _reference(self, t: F) -> float:
        """This slope's steady creep rate: the 99th percentile of its hourly rates while not
        accelerating, over the last `memory_s` (after a first `learn_s`), never below the
        sensor floor."""
        if self.first_t is None and len(t):
            self.first_t = float(t[0])
        if self.first_t is None or not len(t) or t[-1] - self.first_t < self.learn_s:
            return self.v_ref_per_day
        if self.samples:
            self.v_ref = max(self.v_ref_per_day, float(np.quantile(self.samples, 0.99)))
        return self.v_ref or self.v_ref_per_day

    def _remember(self, t: F, v: F, level: np.ndarray) -> None:
        """Keep one rate per hour while the slope is not accelerating (level none or blue)."""
        for ti, vi, lv in zip(t.tolist(), v.tolist(), level.tolist(), strict=True):
            if lv <= 1 and vi == vi and ti - self.sample_t >= 3600.0:
                self.samples.append(abs(vi))
                self.sample_t = ti
        limit = int(self.memory_s / 3600.0)
        if len(self.samples) > limit:
            del self.samples[: len(self.samples) - limit]

    def evaluate(self, ts: F, x: F) -> Condition:
        """Judge readings (ts in epoch seconds, ascending)."""
        t = np.concatenate([self.hist_t, ts])
        d = np.concatenate([self.hist_x, x])
        off = len(self.hist_t)
        v = _velocity(t, _trailing_mean(t, d, self.smooth_s), self.window_s)  # per day
        a = v - np.interp(t - self.window_s, t, v, left=np.nan)
        keep = t >= t[-1] - 3 * self.window_s - self.smooth_s if len(t) else np.zeros(0, bool)
        self.hist_t, self.hist_x = t[keep], d[keep]
        v, a = v[off:], a[off:]
        v_ref = self._reference(ts)
        angle = np.degrees(np.arctan(np.abs(v) / v_ref))
        valid = np.isfinite(v) & np.isfinite(a)
        level = np.where(valid, slope_level(np.where(valid, angle, 0), np.nan_to_num(a)), 0)
        self._remember(ts, v, level)
        if self.response is not None:
            level = np.where(self.response.update(ts, x, level), level, 0)
        sev = np.maximum(level - 1, 0)
        angles = np.array([45.0, 45.0, 45.0, 80.0, 85.0])[level]
        limit = v_ref * np.tan(np.radians(angles))
        clear_ok = ~valid | (angle < CLEAR_ANGLE)
        return Condition(level > 0, clear_ok, sev.astype(np.int64), v, limit, np.nan_to_num(angle))


def _trailing_mean(t: F, d: F, span_s: float) -> F:
    """Mean of the readings in the last `span_s` seconds up to each reading."""
    c = np.concatenate([[0.0], np.cumsum(d)])
    lo = np.searchsorted(t, t - span_s, side="right")
    hi = np.arange(1, len(t) + 1)
    out: F = (c[hi] - c[lo]) / np.maximum(hi - lo, 1)
    return out


def _velocity(t: F, d: F, window_s: float) -> F:
    """Displacement change per day over the last `window_s` (NaN until a window is covered)."""
    if not len(t):
        return np.empty(0)
    covered = t - t[0] >= window_s
    past = np.interp(t - window_s, t, d)
    out: F = np.where(covered, (d - past) / window_s * 86400.0, np.nan)
    return out


def _run_starts(ts: F, mask: NDArray[np.bool_], since: float | None) -> F:
    """Device time at which the current run of True began, for each reading (inf if False)."""
    runs = true_runs(mask, 1 if since is not None else 0)
    idx = np.arange(len(mask))
    first = idx - runs + 1
    carried = first < 0
    starts = np.where(
        carried, since if since is not None else np.inf, ts[np.clip(first, 0, len(ts) - 1)]
    )
    out: F = np.where(mask, starts, np.inf)
    return out
