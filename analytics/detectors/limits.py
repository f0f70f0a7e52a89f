"""What a series detector is configured with and what it learns in its warm-up.

The window sizes and floors are set once (`DetectorConfig`); everything else (reference
level, scales, daily profile and every limit) is learnt from the warm-up (`learn_limits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analytics.detectors.seasonal import hourly_profile
from analytics.detectors.windows import (
    MAD_TO_SD,
    lindley,
    quantum,
    rolling_baseline,
    rolling_diff_ratio,
    run_lengths,
    scale_floor,
    spike_z,
    tail_limit,
    trend_z,
)

F = NDArray[np.float64]
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
    # A gap in device time longer than this (s) leaves the windows stale: they are refilled
    # before judging resumes (0: never). The pipeline sets it to the windows' own span.
    stale_s: float = 0.0
    # Whether the drift detector also restarts after such a gap, from the refilled level: a
    # duty-cycled machine's regime returns after hours away (a pump's night), and a level
    # and sum carried from its last stretch judge this one against another day's weather.
    gap_restarts_drift: bool = False

    def __post_init__(self) -> None:
        if self.window < 5 or self.noise_window < 5:
            raise ValueError("windows must hold at least 5 readings")
        if self.warmup < self.window + self.noise_window:
            raise ValueError("warm-up must be longer than the windows")


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
    # the smallest step between readings (their rounding), see rolling_baseline
    resolution: float = 0.0

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
    q = quantum(x)
    med, scale = rolling_baseline(head, tail, cfg.window, local_sd, q)
    z = np.abs(spike_z(tail, med, scale, trend_z(head, tail, cfg.window, local_sd, q)))
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
        resolution=q,
    )


def local_spread(x: F, blocks: int = 7) -> float:
    """Robust spread of the warm-up around each of its days' medians (blocks of readings).

    A cumulative series (a slope's displacement, a crack's width) moves over a week, so its
    spread around one median measures the movement, not the scatter a spike must beat.
    """
    parts = np.array_split(x, blocks) if len(x) >= 10 * blocks else [x]
    dev = np.concatenate([p - np.median(p) for p in parts])
    return MAD_TO_SD * float(np.median(np.abs(dev)))
