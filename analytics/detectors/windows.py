"""Window arithmetic of the streaming detectors: rolling medians, trend, runs, CUSUM, tails.

Pure numpy over whole batches; every function takes the readings before the batch it needs
so results are exact across batch boundaries.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

F = NDArray[np.float64]
# A year of readings is about 52 one-week warm-ups (see tail_limit).
YEAR_OVER_WARMUP = 52.0
# 1.4826 * MAD estimates a Gaussian standard deviation.
MAD_TO_SD = 1.4826
# Gaussian noise of sd σ has second differences of sd √6·σ, whose median |.| is 0.6745·√6·σ.
D2_MEDIAN_PER_SD = 0.6745 * 6**0.5


def tail_limit(z: F, at_least: float = 1.3) -> float:
    """Where the largest of a year of readings would fall, extrapolating the warm-up's tail.

    Past its 99th percentile a tail is taken as exponential, with the scale the warm-up's
    maximum implies; a year holds about 52 warm-up weeks, so the limit sits ln 52 scales
    above the warm-up's maximum (1.3 x the maximum for Gaussian z, more for skewed noise).
    """
    n = len(z)
    if n < 1000:
        return at_least * float(z.max(initial=0.0))
    top, q99 = float(z.max()), float(np.quantile(z, 0.99))
    scale = (top - q99) / math.log(n / 100.0)
    return max(top + math.log(YEAR_OVER_WARMUP) * scale, at_least * top)


def quantum(x: F) -> float:
    """The series' resolution: its smallest non-zero step (0 for a constant series)."""
    steps = np.abs(np.diff(x))
    steps = steps[steps > 0]
    return float(steps.min()) if len(steps) else 0.0


def scale_floor(x: F) -> float:
    """The smallest scale worth resolving: a coarse quantisation step or a relative epsilon."""
    return max(quantum(x), 1e-6 * (abs(float(np.median(x))) + 1.0))


def window_rows(prev: F, x: F, window: int) -> F:
    """Row i = the `window` readings before x[i] (edge-padded): one view for level and trend."""
    joined = np.concatenate([prev[-window:], x])
    return _windows(joined, window, len(joined) - len(x), len(x))


def rolling_baseline(
    prev: F, x: F, window: int, sd_floor: float, resolution: float = 0.0, rows: F | None = None
) -> tuple[F, F]:
    """Median and MAD scale of the `window` readings before each reading of x.

    A MAD read off values rounded to `resolution` can be short by half a step: a pump at
    rest reads 0.15-0.25 mm/s in 0.01 steps, its MAD jumps between one and two steps, and at
    one step its half-normal noise reaches 9 "sds" a few times a month. Half a step is added.
    """
    windows = window_rows(prev, x, window) if rows is None else rows
    med = _row_median(windows)
    mad = _row_median(np.abs(windows - med[:, None])) + 0.5 * resolution
    # A window of near-identical values would make every later wiggle a "spike".
    scale = np.maximum(MAD_TO_SD * mad, 0.25 * sd_floor)
    return med, scale


def trend_z(
    prev: F, x: F, window: int, sd_floor: float, resolution: float = 0.0, rows: F | None = None
) -> F:
    """z of each reading against the trend of the window before it, extrapolated.

    The trend runs through the means of the window's two halves (on a ramp a half's median
    is just its middle reading, noise and all); the scale comes from the
    window's second differences, so a steady ramp (a crack opening as rain-fed creep peaks)
    neither shifts the baseline nor inflates the scale.
    """
    if rows is None:
        rows = window_rows(prev, x, window)
    half = (window + 1) // 2
    early, late = rows[:, :half], rows[:, -half:]
    m1, m2 = early.mean(axis=1), late.mean(axis=1)
    # the late half's centre lies (half - 1) / 2 readings before the end of the window
    ahead = (half + 1) / 2 / (window - half)
    base = m2 + (m2 - m1) * ahead
    d2 = np.abs(np.diff(rows, n=2, axis=1))
    noise = (_row_median(d2) + 0.5 * resolution) / D2_MEDIAN_PER_SD
    out: F = (x - base) / np.maximum(noise, 0.25 * sd_floor)
    return out


def spike_z(x: F, med: F, scale: F, z_trend: F) -> F:
    """The spike z: of the level z and the trend z, the one nearer zero.

    A spike stands out against both; a ramp only against the level, and a step already
    inside the window only against the trend.
    """
    z = (x - med) / scale
    out: F = np.where(np.abs(z_trend) < np.abs(z), z_trend, z)
    return out


def _windows(joined: F, window: int, start: int, n: int) -> F:
    """Rows i = the up-to-`window` readings before joined[start + i] (edge-padded)."""
    if start < window:
        joined = np.concatenate([np.full(window - start, joined[0]), joined])
        start = window
    view = sliding_window_view(joined[:-1], window)
    result: F = view[start - window : start - window + n]
    return result


def rolling_diff_ratio(prev: F, x: F, window: int, ref: float) -> F:
    """Median |second difference| over the last `window` of them, relative to `ref`.

    Second differences cancel a steady ramp (a motor warming up, a daily cycle), so only
    reading-to-reading scatter counts as noise.
    """
    joined = np.concatenate([prev[-(window + 2) :], x])
    d = np.abs(np.diff(joined, n=2))
    start = len(d) - len(x)
    if start < window - 1:
        d = np.concatenate([np.full(window - 1 - start, d[0] if len(d) else 0.0), d])
        start = window - 1
    view = sliding_window_view(d, window)
    rows = view[start - window + 1 : start - window + 1 + len(x)]
    out: F = _row_median(rows) / ref
    return out


def _row_median(rows: F) -> F:
    """Median of each row (a partition for odd widths, which is all the defaults use)."""
    width = rows.shape[1]
    if width % 2 == 0:
        return np.asarray(np.median(rows, axis=1))
    half = width // 2
    out: F = np.partition(rows, half, axis=1)[:, half]
    return out


def lindley(steps: F, start: float) -> F:
    """S_t = max(0, S_{t-1} + steps_t) for the whole batch at once (the CUSUM recursion)."""
    c = np.cumsum(steps)
    low = np.minimum.accumulate(c)
    out: F = c - np.minimum(low, -start)
    return out


def run_lengths(last: float, x: F, carry: int) -> NDArray[np.int64]:
    """Length of the run of identical values ending at each reading (carrying the prior run)."""
    same = x == np.concatenate([[last], x[:-1]])
    idx = np.arange(len(x))
    resets = np.where(same, -1, idx)
    last_reset = np.maximum.accumulate(resets)
    runs = np.where(last_reset < 0, idx + 1 + carry, idx - last_reset + 1)
    return runs.astype(np.int64)


def true_runs(mask: NDArray[np.bool_], carry: int) -> NDArray[np.int64]:
    """Length of the run of True ending at each position (0 where False), carrying a prior run."""
    idx = np.arange(len(mask))
    last_false = np.maximum.accumulate(np.where(mask, -1, idx))
    runs = np.where(last_false < 0, idx + 1 + carry, idx - last_false)
    return np.where(mask, runs, 0).astype(np.int64)
