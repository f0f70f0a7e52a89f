"""The daily cycle of a series: a 24-bin hour-of-day profile learnt in the warm-up.

Traffic on a bridge, sunshine on a solar battery and the air around a robot all follow the
clock. The drift detector judges readings minus this profile, so a quiet night after a busy
day is not a level shift, while a sensor drifting over days still is.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
BINS = 24
# A bin needs a few days of readings before its median means anything.
MIN_PER_BIN = 3


def hour_bins(ts: F) -> NDArray[np.int64]:
    """Hour of the UTC day (0-23) of epoch seconds; any fixed offset gives the same cycle."""
    return ((np.asarray(ts, dtype=np.float64) // 3600.0) % BINS).astype(np.int64)


def hourly_profile(ts: F, x: F) -> tuple[float, ...]:
    """Median per hour of day minus the overall median; empty when the warm-up is too thin."""
    if len(ts) != len(x) or not len(x):
        return ()
    bins = hour_bins(ts)
    counts = np.bincount(bins, minlength=BINS)
    if counts.min() < MIN_PER_BIN:
        return ()
    level = float(np.median(x))
    return tuple(float(np.median(x[bins == b])) - level for b in range(BINS))


def season_at(profile: tuple[float, ...], ts: F | None, n: int) -> F:
    """The profile's value at each timestamp (zeros without a profile or timestamps)."""
    if not profile or ts is None:
        return np.zeros(n)
    out: F = np.asarray(profile, dtype=np.float64)[hour_bins(ts)]
    return out
