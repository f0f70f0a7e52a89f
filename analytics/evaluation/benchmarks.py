"""Labelled multivariate benchmarks, scored row by row as their authors score them.

* **SKAB** (Skoltech Anomaly Benchmark, github.com/waico/SKAB, GPL-3.0): 34 recordings of a
  water-circulation testbed (valve1/, valve2/, other/), 8 sensors at 1 Hz, one collective
  anomaly each. Protocol of its leaderboard (`core/utils.py: preprocess_skab`): train on the
  first 400 rows of each file, score the rest; outlier-detection metrics pooled over all files:
  F1 = TP / (TP + (FP + FN) / 2), FAR = FP / (FP + TN), MAR = FN / (FN + TP).
* **TEP** (Tennessee Eastman process, Braatz group's data set, github.com/camaramm/
  tennessee-eastman-profBraatz, University of Illinois open licence): 52 variables every
  3 minutes; train on d00.dat (500 normal rows, stored transposed), test on d01_te..d21_te.dat
  (960 rows, the fault starts after row 160) and d00_te.dat (normal); the field reports the
  missed-detection rate per fault and the false-alarm rate; pooled row-level F1 as for SKAB.

The data are read from a directory given on the command line; none of it is in this repository.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analytics.detectors.joint import JointDetector, JointKind

F = np.ndarray
SKAB_TRAIN = 400
SKAB_FOLDERS = ("valve1", "valve2", "other")
TEP_FAULT_START = 160

# SKAB README, "Outlier detection problem" leaderboard (F1, FAR %, MAR %), same protocol.
SKAB_PUBLISHED = {
    "Conv-AE": (0.78, 13.55, 28.02),
    "MSET": (0.78, 39.73, 14.13),
    "T-squared+Q (PCA-based)": (0.76, 26.62, 24.92),
    "LSTM-AE": (0.74, 29.96, 25.92),
    "T-squared": (0.66, 19.21, 42.6),
    "LSTM-VAE": (0.56, 9.13, 55.03),
    "Vanilla LSTM": (0.54, 12.54, 59.53),
    "Vanilla AE": (0.39, 2.59, 75.15),
    "MSCRED": (0.36, 49.94, 69.88),
    "Isolation forest": (0.29, 2.56, 82.89),
    "Null detector": (0.0, 0.0, 100.0),
}


@dataclass(slots=True)
class Confusion:
    """Row counts pooled over files."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: F, truth: F) -> None:
        p, t = predicted.astype(bool), truth.astype(bool)
        self.tp += int(np.sum(p & t))
        self.fp += int(np.sum(p & ~t))
        self.fn += int(np.sum(~p & t))
        self.tn += int(np.sum(~p & ~t))

    def f1(self) -> float:
        denom = self.tp + (self.fp + self.fn) / 2
        return self.tp / denom if denom else 0.0

    def far(self) -> float:
        return 100.0 * self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    def mar(self) -> float:
        return 100.0 * self.fn / (self.fn + self.tp) if self.fn + self.tp else 0.0


def skab_files(root: Path) -> list[Path]:
    """The labelled recordings under ROOT (the SKAB checkout, or its data/ folder)."""
    base = root / "data" if (root / "data").is_dir() else root
    return sorted(p for d in SKAB_FOLDERS for p in (base / d).glob("*.csv"))


def read_skab(path: Path) -> tuple[F, F]:
    """(8 sensor columns, anomaly labels) of one SKAB file."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    head = rows[0]
    data = np.array([[float(c) for c in r] for r in (r[1:] for r in rows[1:])])
    sensors = [i for i, h in enumerate(head[1:]) if h not in ("anomaly", "changepoint")]
    return data[:, sensors], data[:, head[1:].index("anomaly")]


def skab(root: Path, kind: JointKind) -> tuple[Confusion, int]:
    """Pooled confusion over the test rows of every file, and the number of files."""
    total, files = Confusion(), skab_files(root)
    for path in files:
        x, y = read_skab(path)
        det = JointDetector.train(tuple(map(str, range(x.shape[1]))), x[:SKAB_TRAIN], kind)
        total.add(det.score(x).state[SKAB_TRAIN:], y[SKAB_TRAIN:])
    return total, len(files)


def _tep(path: Path) -> F:
    rows: F = np.loadtxt(path)
    return rows.T if rows.shape[0] == 52 else rows  # d00.dat is stored 52 x 500


def tep(root: Path, kind: JointKind) -> tuple[Confusion, dict[int, float], float]:
    """Pooled confusion over d01..d21 test files, missed-detection rate per fault, and the
    false-alarm rate (%) on the normal test file d00_te."""
    train = _tep(root / "d00.dat")
    det = JointDetector.train(tuple(map(str, range(train.shape[1]))), train, kind)
    total, missed = Confusion(), {}
    for fault in range(1, 22):
        state = det.score(_tep(root / f"d{fault:02d}_te.dat")).state
        truth = np.arange(len(state)) >= TEP_FAULT_START
        total.add(state, truth)
        missed[fault] = 100.0 * float(1 - state[TEP_FAULT_START:].mean())
    normal = det.score(_tep(root / "d00_te.dat")).state
    return total, missed, 100.0 * float(normal.mean())


def skab_report(root: Path, kind: JointKind) -> str:
    c, n = skab(root, kind)
    rows = ["| detector | F1 | FAR, % | MAR, % |", "| --- | ---: | ---: | ---: |"]
    rows.append(
        f"| **Servitize {kind} (this run)** | **{c.f1():.2f}** | {c.far():.2f} | {c.mar():.2f} |"
    )
    rows += [f"| {k} | {f:.2f} | {a:.2f} | {m:.2f} |" for k, (f, a, m) in SKAB_PUBLISHED.items()]
    return "\n".join(rows) + f"\n\n({n} files, {c.tp + c.fp + c.fn + c.tn} test rows)"


def tep_report(root: Path, kind: JointKind) -> str:
    c, missed, far_normal = tep(root, kind)
    rows = [
        f"Servitize {kind}: pooled F1 {c.f1():.2f}, FAR {c.far():.2f} % (first 160 rows of each "
        f"fault file), MAR {c.mar():.2f} %; false alarms on d00_te {far_normal:.2f} %",
        "",
        "| fault | missed detection, % |",
        "| ---: | ---: |",
    ]
    rows += [f"| {k} | {v:.1f} |" for k, v in missed.items()]
    return "\n".join(rows)
