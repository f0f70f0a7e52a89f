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
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter  # type: ignore[import-untyped]

from analytics.detectors.seasonal import hourly_profile, season_at
from analytics.detectors.windows import (
    MAD_TO_SD,
    lindley,
    rolling_baseline,
    rolling_diff_ratio,
    run_lengths,
    scale_floor,
    spike_z,
    tail_limit,
    trend_z,
    true_runs,
)

F = NDArray[np.float64]

SPIKE, DRIFT, STUCK, NOISE = 1, 2, 4, 8
KIND_NAMES = {SPIKE: "spike", DRIFT: "drift", STUCK: "stuck", NOISE: "noise"}
CHUNK = 2048
# Saved limits of another version are relearnt: version 2 measures noise on second
# differences (diff_ref) and adds the daily profile.
LIMITS_VERSION = 2


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Window sizes and the floors under the self-tuned thresholds."""

    # odd windows have a middle element: np.partition finds medians faster than np.median
    window: int = 61
    warmup: int = 240
    noise_window: int = 31
    # Floors: a clean Gaussian warm-up would otherwise set limits that fire every few hours.
    # Spikes: skewed sensor noise (a vibration RMS is half-normal) reaches 8 robust sds a few
    # times a quarter, which a week's warm-up cannot show; 9 is still far below a spike.
    min_spike_z: float = 9.0
    cusum_k: float = 0.75
    min_cusum_h: float = 15.0
    min_stuck_run: int = 12
    min_noise_ratio: float = 2.5
    # readings in a row the noise ratio must stay over its limit (a third of its window)
    noise_persist: int = 10
    # The drift reference follows the series with a time constant of ~2,000 readings, so
    # changes faster than that accumulate in the CUSUM.
    level_alpha: float = 5e-4

    def __post_init__(self) -> None:
        if self.window < 5 or self.noise_window < 5:
            raise ValueError("windows must hold at least 5 readings")
        if self.warmup < self.window + self.noise_window:
            raise ValueError("warm-up must be longer than the windows")


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
class Thresholds:
    """The limits learned at the end of the warm-up."""

    spike_z: float
    cusum_h: float
    stuck_run: int
    noise_ratio: float
    level: float
    level_sd: float
    diff_ref: float
    # the spread within a day of the warm-up: floors the spike scale (see local_spread)
    local_sd: float = 0.0
    # values the series rests at for long stretches in the warm-up (a stopped pump's 0)
    rest_values: frozenset[float] = frozenset()
    # the daily cycle the drift detector takes out (empty: none learnt)
    profile: tuple[float, ...] = ()

    def to_json(self) -> dict[str, object]:
        """A JSON-able dict (for detector_series_state)."""
        out: dict[str, object] = {k: getattr(self, k) for k in Thresholds.__slots__}
        out["rest_values"] = sorted(self.rest_values)
        out["profile"] = list(self.profile)
        out["version"] = LIMITS_VERSION
        return out

    @staticmethod
    def current(data: dict[str, Any]) -> bool:
        """Whether saved limits were learnt by this version's statistics."""
        return data.get("version") == LIMITS_VERSION

    @staticmethod
    def from_json(data: dict[str, Any]) -> Thresholds:
        """The inverse of to_json."""
        fields = {k: data[k] for k in Thresholds.__slots__ if k in data}
        fields["rest_values"] = frozenset(float(v) for v in data.get("rest_values", []))
        fields["stuck_run"] = int(fields["stuck_run"])
        fields["profile"] = tuple(float(v) for v in data.get("profile", []))
        return Thresholds(**fields)


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
        # Chunks bound the memory of the sliding windows (window x chunk floats).
        for start in range(0, len(finite) if self.limits is not None else 0, CHUNK):
            part = finite[start : start + CHUNK]
            _fill(out, part, self._judge(x[part], t[part] if t is not None else None))
        return out

    def _learn(self, x: F, t: F | None) -> None:
        self.history = np.concatenate([self.history, x])
        if t is not None:
            self.warm_ts = np.concatenate([self.warm_ts, t])
        self.seen += len(x)
        if self.seen >= self.config.warmup:
            self.limits = learn_limits(self.history, self.config, self.warm_ts)
            self.warm_ts = np.empty(0)
            self.run = _trailing_run(self.history)
            self.history = self.history[-_kept(self.config) :]

    def _judge(self, x: F, t: F | None) -> BatchVerdict:
        cfg, lim = self.config, self.limits
        assert lim is not None
        sd = lim.local_sd or lim.level_sd
        med, scale = rolling_baseline(self.history, x, cfg.window, sd)
        z = spike_z(x, med, scale, trend_z(self.history, x, cfg.window, sd))
        spike = np.abs(z) > lim.spike_z
        # A spike is judged by the spike detector; keep it out of the drift sum.
        season = season_at(lim.profile, t, len(x))
        cusum = self._drift(x - season, med - season, scale, spike)
        drift = cusum > lim.cusum_h
        last = self.history[-1] if len(self.history) else np.nan  # empty just after restore
        run = run_lengths(last, x, self.run)
        self.run = int(run[-1])
        inside = (x > self.bounds[0]) & (x < self.bounds[1])
        stuck = (run >= lim.stuck_run) & ~np.isin(x, list(lim.rest_values)) & inside
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


def learn_limits(x: F, cfg: DetectorConfig, ts: F | None = None) -> Thresholds:
    """Reference level, scales and thresholds from warm-up readings (and their times)."""
    profile = hourly_profile(ts, x) if ts is not None else ()
    level = float(np.median(x))
    spread = MAD_TO_SD * float(np.median(np.abs(x - level)))
    floor = scale_floor(x)
    step = float(np.median(np.abs(np.diff(x))))
    level_sd = max(spread, step, floor)
    diff_ref = max(float(np.median(np.abs(np.diff(x, n=2)))), floor)
    local_sd = max(local_spread(x), step, floor)
    head, tail = x[: cfg.window], x[cfg.window :]
    med, scale = rolling_baseline(head, tail, cfg.window, local_sd)
    z = np.abs(spike_z(tail, med, scale, trend_z(head, tail, cfg.window, local_sd)))
    lead = cfg.noise_window + 2
    ratio = rolling_diff_ratio(x[:lead], x[lead:], cfg.noise_window, diff_ref)
    runs = run_lengths(np.nan, x, 0)
    rest = frozenset(float(v) for v in np.unique(x[runs >= cfg.min_stuck_run]))
    # The limit comes from the raw warm-up, daily cycle included: taking the cycle out is to
    # spare operators the daily swing, not to make the detector touchier to the weather.
    zl = np.clip((x - level) / level_sd, -50.0, 50.0)
    cusum = np.maximum(lindley(zl - cfg.cusum_k, 0.0), lindley(-zl - cfg.cusum_k, 0.0))
    # Each limit sits well above the worst the warm-up showed (2x its 99th percentile).
    return Thresholds(
        spike_z=max(cfg.min_spike_z, 2.0 * float(np.quantile(z, 0.99)), tail_limit(z)),
        cusum_h=max(cfg.min_cusum_h, 3.0 * float(cusum.max())),
        stuck_run=max(cfg.min_stuck_run, 3 * int(runs[~np.isin(x, list(rest))].max(initial=1))),
        noise_ratio=max(
            cfg.min_noise_ratio, 1.5 * float(np.quantile(ratio, 0.99)), tail_limit(ratio, 1.2)
        ),
        level=level,
        level_sd=level_sd,
        diff_ref=diff_ref,
        local_sd=local_sd,
        rest_values=rest,
        profile=profile,
    )


def local_spread(x: F, blocks: int = 7) -> float:
    """Robust spread of the warm-up around each of its days' medians (blocks of readings).

    A cumulative series (a slope's displacement, a crack's width) moves over a week, so its
    spread around one median measures the movement, not the scatter a spike must beat.
    """
    parts = np.array_split(x, blocks) if len(x) >= 10 * blocks else [x]
    dev = np.concatenate([p - np.median(p) for p in parts])
    return MAD_TO_SD * float(np.median(np.abs(dev)))


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
