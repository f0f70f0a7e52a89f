"""Stored history cut into device-time batches, as the live detector would have seen it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

F = np.ndarray
# One hour of device time per batch: what a live detector sees between two slow polls, and
# short enough that the operating regime's driver leads the other metrics of its batch.
BATCH_S = 3600.0


def time_batches(
    series: dict[str, tuple[F, F]], batch_s: float = BATCH_S
) -> Iterator[dict[str, tuple[F, F]]]:
    """Every metric's finite readings per consecutive `batch_s` of device time (sorted)."""
    cols = {m: _sorted(ts, vs) for m, (ts, vs) in series.items()}
    starts = [float(ts[0]) for ts, _ in cols.values() if len(ts)]
    ends = [float(ts[-1]) for ts, _ in cols.values() if len(ts)]
    if not starts:
        return
    for lo in np.arange(min(starts), max(ends) + batch_s, batch_s):
        batch = {}
        for m, (ts, vs) in cols.items():
            a, b = np.searchsorted(ts, [lo, lo + batch_s])
            if b > a:
                batch[m] = (ts[a:b], vs[a:b])
        if batch:
            yield batch


def _sorted(ts: F, vs: F) -> tuple[F, F]:
    t, v = np.asarray(ts, dtype=np.float64), np.asarray(vs, dtype=np.float64)
    ok = np.isfinite(v)
    order = np.argsort(t[ok], kind="stable")
    return t[ok][order], v[ok][order]
