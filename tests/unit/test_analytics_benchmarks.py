"""Benchmark readers and the row-level metrics, on tiny files in the benchmarks' formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analytics.detectors.joint import JointKind
from analytics.evaluation import benchmarks
from analytics.evaluation.benchmarks import Confusion


def test_confusion_matches_skab_formulas() -> None:
    c = Confusion()
    c.add(np.array([1, 1, 0, 0, 1]), np.array([1, 0, 1, 0, 1]))
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 1)
    assert (
        c.f1() == pytest.approx(2 / (2 + 1))
        and c.far() == 50.0
        and c.mar() == pytest.approx(100 / 3)
    )


def _skab_file(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 700
    a = rng.normal(0, 1, n)
    x = np.column_stack([a, 2 * a + rng.normal(0, 0.1, n), rng.normal(0, 1, n)])
    y = np.zeros(n)
    x[500:600, 1] += 3.0
    y[500:600] = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["datetime;s1;s2;s3;anomaly;changepoint"]
    lines += [
        f"2020-03-09 10:{i // 60 % 60:02d}:{i % 60:02d};{r[0]};{r[1]};{r[2]};{lab};0"
        for i, (r, lab) in enumerate(zip(x, y, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n")


def test_skab_protocol_trains_on_400_rows_and_scores_the_rest(tmp_path: Path) -> None:
    _skab_file(tmp_path / "data" / "valve1" / "0.csv", 0)
    _skab_file(tmp_path / "data" / "other" / "1.csv", 1)
    (tmp_path / "data" / "anomaly-free").mkdir()
    _skab_file(tmp_path / "data" / "anomaly-free" / "anomaly-free.csv", 2)  # not a test file
    c, n = benchmarks.skab(tmp_path, JointKind.PCA)
    assert n == 2 and c.tp + c.fp + c.fn + c.tn == 2 * 300
    # every fault row found; false rows only in the release tail (smoothing + hold, < 15 rows)
    assert c.fn == 0 and c.fp <= 2 * 15
    assert "Servitize pca" in benchmarks.skab_report(tmp_path / "data", JointKind.PCA)


def test_tep_reads_the_transposed_training_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savetxt(tmp_path / "d00.dat", rng.normal(0, 1, (500, 52)).T)
    assert benchmarks._tep(tmp_path / "d00.dat").shape == (500, 52)
    np.savetxt(tmp_path / "d01_te.dat", rng.normal(0, 1, (960, 52)))
    assert benchmarks._tep(tmp_path / "d01_te.dat").shape == (960, 52)
