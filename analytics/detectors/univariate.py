"""Self-tuning streaming detectors for one (device, metric) series, vectorised per batch.

One `SeriesDetector` holds the state of four detectors and judges a whole batch of readings
with numpy, giving exactly the answers a reading-by-reading loop would give:

* spike: robust z against the median/MAD of the previous `window` readings;
* drift: two-sided CUSUM of z against the level learned in the warm-up;
* stuck: a run of identical values much longer than any seen in the warm-up;
* noise: median |second difference| over a short window against the warm-up's.

The first `warmup` readings only teach the detector: its reference level, scales and the
thresholds, which are set from the warm-up's own score distribution (no hand-set limits).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter  # type: ignore[import-untyped]

from analytics.detectors.limits import LIMITS_VERSION as LIMITS_VERSION
from analytics.detectors.limits import DetectorConfig as DetectorConfig
from analytics.detectors.limits import Thresholds as Thresholds
from analytics.detectors.limits import learn_limits as learn_limits
from analytics.detectors.seasonal import season_at
from analytics.detectors.windows import (
    lindley,
    rolling_baseline,
    rolling_diff_ratio,
    run_lengths,
    spike_z,
    trend_z,
    true_runs,
    window_rows,
)

F = NDArray[np.float64]

SPIKE, DRIFT, STUCK, NOISE = 1, 2, 4, 8
KIND_NAMES = {SPIKE: "spike", DRIFT: "drift", STUCK: "stuck", NOISE: "noise"}
CHUNK = 2048


@dataclass(slots=True)
class BatchVerdict:
    """Per-reading results of one batch; `flags` is a bitmask of SPIKE/DRIFT/STUCK/NOISE."""

    flags: NDArray[np.int64]
    score: F
    z: F
    baseline: F
    scale: F
    cusum: F
    run: NDArray[np.int64]
    noise_ratio: F


@dataclass(slots=True)
class SeriesDetector:
    """The streaming state of one series."""

    config: DetectorConfig = field(default_factory=DetectorConfig)
    seen: int = 0
    history: F = field(default_factory=lambda: np.empty(0))
    # device times of the warm-up readings (for the daily profile)
    warm_ts: F = field(default_factory=lambda: np.empty(0))
    limits: Thresholds | None = None
    cusum_pos: float = 0.0
    cusum_neg: float = 0.0
    run: int = 0
    drift_run: int = 0
    noise_run: int = 0
    # The metric's catalog range: a reading at a bound is saturated (air at 100 % humidity in
    # fog), not stuck, however long it stays there.
    bounds: tuple[float, float] = (-np.inf, np.inf)
    # device time of the last reading seen (for stale_s), and readings left to refill
    last_ts: float = -np.inf
    refilling: int = 0
    # the daily profile at the refilled readings (for gap_restarts_drift)
    fill_season: F = field(default_factory=lambda: np.empty(0))

    def restore(self, limits: Thresholds) -> None:
        """Resume with limits learnt before a restart (the warm-up is not repeated)."""
        self.limits = limits
        self.seen = max(self.seen, self.config.warmup)
        self.history = self.history[-_kept(self.config) :]

    @property
    def warm(self) -> bool:
        """Whether the warm-up is over and readings are judged."""
        return self.limits is not None

    def update(self, values: NDArray[np.floating], ts: F | None = None) -> BatchVerdict:
        """Judge a batch of readings in device-time order (non-finite values are skipped).

        With timestamps (epoch seconds) the drift detector also takes out the daily cycle.
        """
        x = np.asarray(values, dtype=np.float64)
        t = np.asarray(ts, dtype=np.float64) if ts is not None else None
        out = _empty(len(x))
        finite = np.flatnonzero(np.isfinite(x))
        if self.limits is None and len(finite):
            need = self.config.warmup - self.seen
            first, finite = finite[:need], finite[need:]
            self._learn(x[first], t[first] if t is not None else None)
        if self.limits is None or not len(finite):
            return out
        for seg in self._segments(finite, t):
            if t is not None and t[seg[0]] - self.last_ts > self.config.stale_s > 0:
                self._stale()
            seg = self._refill(x, seg, t)
            # Chunks bound the memory of the sliding windows (window x chunk floats).
            for start in range(0, len(seg), CHUNK):
                part = seg[start : start + CHUNK]
                _fill(out, part, self._judge(x[part], t[part] if t is not None else None))
        if t is not None:
            self.last_ts = float(t[finite[-1]])
        return out

    def _segments(self, at: NDArray[np.intp], t: F | None) -> list[NDArray[np.intp]]:
        """The batch's readings split where device time jumps by more than stale_s."""
        if t is None or self.config.stale_s <= 0:
            return [at]
        cuts = np.flatnonzero(np.diff(t[at]) > self.config.stale_s) + 1
        return [seg for seg in np.split(at, cuts) if len(seg)]

    def _stale(self) -> None:
        """After a gap the windows hold readings from before it: they are refilled first.

        A pump that stopped mid-fault would otherwise judge its next start against the
        fault's readings, and a healthy reading would look like a spike. With
        `gap_restarts_drift` the drift detector restarts too, from the refilled level.
        """
        self.history = np.empty(0)
        self.refilling = self.config.window
        self.run = self.noise_run = 0
        if self.config.gap_restarts_drift:
            self.cusum_pos = self.cusum_neg = 0.0
            self.drift_run = 0
            self.fill_season = np.empty(0)

    def _refill(self, x: F, seg: NDArray[np.intp], t: F | None) -> NDArray[np.intp]:
        """Feed readings into refilling windows without judging them; returns the rest."""
        if not self.refilling:
            return seg
        fill = x[seg[: self.refilling]]
        last = float(self.history[-1]) if len(self.history) else np.nan
        self.run = int(run_lengths(last, fill, self.run)[-1])
        self.history = np.concatenate([self.history, fill])
        self.refilling -= len(fill)
        if self.config.gap_restarts_drift and self.limits is not None:
            ts = t[seg[: len(fill)]] if t is not None else None
            season = season_at(self.limits.profile, ts, len(fill))
            self.fill_season = np.concatenate([self.fill_season, season])
            if not self.refilling:
                self._relevel(self.history[-len(self.fill_season) :] - self.fill_season)
        return seg[len(fill) :]

    def _relevel(self, refilled: F) -> None:
        """Take the refilled readings' level if the carried one is clearly off it.

        A median of one window is itself noisy (a quantum off, on a series read in steps as
        coarse as its spread), so a carried level within one sd of it stands.
        """
        assert self.limits is not None
        level = float(np.median(refilled))
        if abs(level - self.limits.level) > self.limits.level_sd + self.limits.resolution:
            self.limits.level = level

    def _learn(self, x: F, t: F | None) -> None:
        self.history = np.concatenate([self.history, x])
        if t is not None:
            self.warm_ts = np.concatenate([self.warm_ts, t])
        self.seen += len(x)
        if t is not None and len(t):
            self.last_ts = float(t[-1])
        if self.seen >= self.config.warmup:
            self.limits = learn_limits(self.history, self.config, self.warm_ts)
            self.warm_ts = np.empty(0)
            self.run = _trailing_run(self.history)
            self.history = self.history[-_kept(self.config) :]

    def _judge(self, x: F, t: F | None) -> BatchVerdict:
        cfg, lim = self.config, self.limits
        assert lim is not None
        sd = lim.local_sd or lim.level_sd
        q = lim.resolution
        rows = window_rows(self.history, x, cfg.window)
        med, scale = rolling_baseline(self.history, x, cfg.window, sd, q, rows)
        z = spike_z(x, med, scale, trend_z(self.history, x, cfg.window, sd, q, rows))
        spike = np.abs(z) > lim.spike_z
        # A spike is judged by the spike detector; keep it out of the drift sum.
        season = season_at(lim.profile, t, len(x))
        cusum = self._drift(x - season, med - season, scale, spike)
        drift = cusum > lim.cusum_h
        last = self.history[-1] if len(self.history) else np.nan  # empty just after restore
        run = run_lengths(last, x, self.run)
        self.run = int(run[-1])
        inside = (x > self.bounds[0]) & (x < self.bounds[1])
        stuck = (run >= lim.stuck_run) & inside
        if lim.rest_values:
            stuck &= ~np.isin(x, list(lim.rest_values))
        ratio = rolling_diff_ratio(self.history, x, cfg.noise_window, lim.diff_ref)
        # A noisy sensor stays noisy: a few rough readings in a row are not a noise fault.
        over = true_runs(ratio > lim.noise_ratio, self.noise_run)
        self.noise_run = int(over[-1])
        noise = over >= cfg.noise_persist
        self.history = np.concatenate([self.history, x])[-_kept(cfg) :]
        self.seen += len(x)
        flags = spike * SPIKE + drift * DRIFT + stuck * STUCK + noise * NOISE
        parts = np.stack(
            [
                np.abs(z) / lim.spike_z,
                cusum / lim.cusum_h,
                run / lim.stuck_run,
                ratio / lim.noise_ratio,
            ]
        )
        worst = parts.max(axis=0)
        score = worst / (1.0 + worst)
        return BatchVerdict(flags.astype(np.int64), score, z, med, scale, cusum, run, ratio)

    def _drift(self, x: F, med: F, scale: F, spike: NDArray[np.bool_]) -> F:
        """Two-sided CUSUM; after `window` readings in alarm it re-levels (an exact restart)."""
        lim, cfg = self.limits, self.config
        assert lim is not None
        out = np.empty(len(x))
        i = 0
        while i < len(x):
            ref, ewma = self._levels(x[i:], med[i:], scale[i:])
            zl = np.where(spike[i:], 0.0, np.clip((x[i:] - ref) / lim.level_sd, -50.0, 50.0))
            pos = lindley(zl - cfg.cusum_k, self.cusum_pos)
            neg = lindley(-zl - cfg.cusum_k, self.cusum_neg)
            cus = np.maximum(pos, neg)
            runs = true_runs(cus > lim.cusum_h, self.drift_run)
            hits = np.flatnonzero(runs >= cfg.window)
            end = int(hits[0]) + 1 if len(hits) else len(cus)
            out[i : i + end] = cus[:end]
            if not len(hits):
                lim.level, self.drift_run = float(ewma[-1]), int(runs[-1])
                self.cusum_pos, self.cusum_neg = float(pos[-1]), float(neg[-1])
                break
            # The new level is established: restart the CUSUM from it.
            lim.level = float(med[i + end - 1])
            self.cusum_pos = self.cusum_neg = 0.0
            self.drift_run = 0
            i += end
        return out

    def _levels(self, x: F, med: F, scale: F) -> tuple[F, F]:
        """Drift reference before each reading: a slow EWMA of readings clipped to 3 MADs."""
        lim = self.limits
        assert lim is not None
        a = self.config.level_alpha
        clipped = np.clip(x, med - 3.0 * scale, med + 3.0 * scale)
        ewma, _ = lfilter([a], [1.0, a - 1.0], clipped, zi=[(1.0 - a) * lim.level])
        before = np.concatenate([[lim.level], ewma[:-1]])
        return before, np.asarray(ewma, dtype=np.float64)


def _kept(cfg: DetectorConfig) -> int:
    """Readings of history the windows need: the spike window or noise window + 2."""
    return max(cfg.window, cfg.noise_window + 2)


def _trailing_run(x: F) -> int:
    if not len(x):
        return 0
    return int(run_lengths(x[0], x[1:], 1)[-1]) if len(x) > 1 else 1


def _empty(n: int) -> BatchVerdict:
    nan = np.full(n, np.nan)
    zero = np.zeros(n, dtype=np.int64)
    return BatchVerdict(
        zero.copy(), np.zeros(n), nan, nan.copy(), nan.copy(), nan.copy(), zero.copy(), nan.copy()
    )


def _fill(out: BatchVerdict, at: NDArray[np.intp], part: BatchVerdict) -> None:
    for name in BatchVerdict.__slots__:
        getattr(out, name)[at] = getattr(part, name)


def flag_names(mask: int) -> list[str]:
    """The detector names in a flag bitmask."""
    return [name for bit, name in KIND_NAMES.items() if mask & bit]
