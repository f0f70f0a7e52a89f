"""Joint (multivariate) scoring throughput on one core, beside the univariate detectors.

Run: .venv/bin/python -m bench.multivariate [--rows N] [--repeats N]
The process pins itself to one CPU and one BLAS thread. Eight correlated sensors; the joint
detectors are trained on 2,000 rows, then score --rows rows (score, shares, anomaly state),
in one call as `servitize score` does and in 1,000-row batches. In the same run, for
comparison: the univariate stacks on the same eight sensors (each sensor its own series):
`SeriesDetector` (spike, drift, stuck, noise) and `ShiftAlarms` (the NAB-scored stack).
Rows/s = rows of all eight sensors per second; medians of the repeats.
"""

from __future__ import annotations

import argparse
import functools
import os

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from analytics.detectors.joint import JointDetector, JointKind
from analytics.detectors.state import AnomalyState
from analytics.detectors.univariate import DetectorConfig, SeriesDetector
from analytics.evaluation.levelshift import ShiftAlarms
from bench.common import machine, progress, table
from bench.detect import timed

SENSORS = tuple(f"s{i}" for i in range(8))
TRAIN = 2000


def plant(n: int, seed: int = 0) -> np.ndarray:
    """Eight sensors driven by three hidden factors, plus noise."""
    rng = np.random.default_rng(seed)
    factors = np.column_stack([np.sin(np.arange(n) / p) for p in (40.0, 97.0, 333.0)])
    mix = rng.normal(0, 1, (3, 8))
    out: np.ndarray = factors @ mix + rng.normal(0, 0.05, (n, 8))
    return out


def joint(det: JointDetector, x: np.ndarray, batch: int | None) -> None:
    """Score, shares and anomaly state for every row (the state streams across batches)."""
    if batch is None:
        det.score(x)
        return
    state = AnomalyState()
    for a in range(0, len(x), batch):
        state.update(det.evaluate(x[a : a + batch])[0])


def univariate(x: np.ndarray, kind: str) -> None:
    for j in range(x.shape[1]):
        if kind == "series":
            SeriesDetector(DetectorConfig(warmup=TRAIN)).update(x[:, j])
        else:
            ShiftAlarms(warmup=TRAIN).update(x[:, j])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    x = plant(TRAIN + args.rows)
    train, test = x[:TRAIN], x[TRAIN:]
    rows = []
    with threadpool_limits(1):
        for model in (JointKind.PCA, JointKind.SIMILARITY):
            det = JointDetector.train(SENSORS, train, model)
            for batch in (None, 1000):
                progress(f"{model}, batch {batch or 'all'} ...")
                r = timed(functools.partial(joint, det, test, batch), args.rows, args.repeats)
                what = f"joint {model}, " + (f"{batch:,}-row batches" if batch else "one call")
                rows.append((what, f"{r:,.0f}"))
        for kind in ("series", "shift"):
            progress(f"univariate {kind} ...")
            r = timed(functools.partial(univariate, x, kind), len(x), args.repeats)
            name = "SeriesDetector" if kind == "series" else "ShiftAlarms (NAB stack)"
            rows.append((f"univariate {name}, 8 series", f"{r:,.0f}"))
    print(f"Machine: {machine()}; one core, one BLAS thread; median of {args.repeats} repeats\n")
    print(table(("what (8 sensors)", "rows/s"), rows))


if __name__ == "__main__":
    main()
