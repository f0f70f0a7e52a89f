"""`servitize score`: train on normal rows of a CSV (or an anomaly-free file), score every row.

Several columns: the joint model (`analytics.detectors.joint`, PCA T² + Q by default) scores
every row, with each sensor's share of the evidence. One column: the NAB-evaluated univariate
stack (`ShiftAlarms` with the `SeriesDetector` flags), the training rows as its warm-up. Either
way the anomaly state (`AnomalyState`, hysteresis) is the last output column, 0/1 per input
row; `onset` marks the rows where it turns on (the alarms a notifier would send).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analytics.detectors.joint import MIN_TRAIN, JointDetector, JointKind
from analytics.detectors.state import AnomalyState, Hysteresis
from analytics.detectors.univariate import DetectorConfig, SeriesDetector, flag_names
from analytics.evaluation.levelshift import ALARM_Z, ShiftAlarms, z_to_score
from analytics.evaluation.scoring import CsvError, Table

F = np.ndarray
UNIVARIATE_ENTER = float(z_to_score(ALARM_Z))


@dataclass(frozen=True, slots=True)
class ScoreRequest:
    """What to train on and how to score."""

    train_rows: int | None  # first N rows of the file are normal (ignored with train)
    train: Table | None  # an anomaly-free recording with the same columns
    kind: JointKind = JointKind.PCA
    joint: bool | None = None  # None: joint when several columns


@dataclass(frozen=True, slots=True)
class Scored:
    """Output columns in order (name, cells); the last one is the 0/1 anomaly state."""

    columns: list[tuple[str, list[str]]]
    state: F
    onsets: int


def _matrix(table: Table) -> F:
    return np.column_stack([table.columns[c] for c in table.columns])


def training_rows(table: Table, req: ScoreRequest) -> F:
    """The normal rows to train on, checked: enough of them, every column has values."""
    if req.train is not None:
        rows, where = _matrix(req.train), "the --train-file"
    else:
        n = req.train_rows or 0
        if n >= len(table.times):
            raise CsvError(
                f"--train-rows {n} leaves no rows to score (the file has {len(table.times)})"
            )
        rows, where = _matrix(table)[:n], f"the first {n} rows"
    if len(rows) < MIN_TRAIN:
        raise CsvError(f"need at least {MIN_TRAIN} training rows, {where} give {len(rows)}")
    empty = [c for c, col in zip(table.columns, rows.T, strict=True) if not np.isfinite(col).any()]
    if empty:
        raise CsvError(f"column(s) {empty} have no numeric values in {where}")
    return rows


def score(table: Table, req: ScoreRequest) -> Scored:
    train = training_rows(table, req)
    joint = req.joint if req.joint is not None else len(table.columns) > 1
    return _joint(table, train, req.kind) if joint else _univariate(table, len(train), req)


def _joint(table: Table, train: F, kind: JointKind) -> Scored:
    sensors = tuple(table.columns)
    out = JointDetector.train(sensors, train, kind).score(_matrix(table))
    cols = [(f"{s}_share", _fmt(out.shares[:, j])) for j, s in enumerate(sensors)]
    return _finish(cols, out.score, out.state, out.onset)


def _univariate(table: Table, warmup: int, req: ScoreRequest) -> Scored:
    (name, values), cols = next(iter(table.columns.items())), []
    if req.train is not None:  # the anomaly-free recording warms the detectors up
        values = np.concatenate([_matrix(req.train)[:, 0], values])
    s, alarm = ShiftAlarms(warmup=warmup).update(values)
    flags = SeriesDetector(DetectorConfig(warmup=warmup)).update(values).flags
    skip = len(values) - len(table.times)
    s, alarm, flags = s[skip:], alarm[skip:], flags[skip:]
    state, onset = AnomalyState(Hysteresis(enter=UNIVARIATE_ENTER, leave=0.8)).update(s)
    cols = [
        (f"{name}_score", _fmt(s)),
        (f"{name}_flags", ["|".join(flag_names(int(f))) for f in flags]),
        (f"{name}_alarm", [str(int(a)) for a in alarm]),
    ]
    return _finish(cols, s, state, onset)


def _finish(cols: list[tuple[str, list[str]]], s: F, state: F, onset: F) -> Scored:
    cols += [("anomaly_score", _fmt(s)), ("onset", [str(int(v)) for v in onset])]
    cols.append(("anomaly", [str(int(v)) for v in state]))
    return Scored(cols, state, int(onset.sum()))


def _fmt(values: F) -> list[str]:
    return [f"{v:.6g}" for v in values]


def unique_names(names: list[str]) -> list[str]:
    """Make names unique keeping order: a repeat of an earlier name gets _2, _3, ..."""
    seen: set[str] = set()
    out = []
    for name in names:
        new, k = name, 2
        while new in seen:
            new, k = f"{name}_{k}", k + 1
        seen.add(new)
        out.append(new)
    return out


def write(path: Path, time_col: str, table: Table, scored: Scored, sep: str) -> None:
    """The input's time column under its own name, then the scored columns, state last."""
    names = unique_names([time_col, *(n for n, _ in scored.columns)])
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=sep)
        w.writerow(names)
        cells = [table.times, *(c for _, c in scored.columns)]
        w.writerows(zip(*cells, strict=True))
