"""Score any timestamped CSV with the streaming detectors: per-row scores and flags."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from analytics.detectors.univariate import DetectorConfig, SeriesDetector, flag_names


class CsvError(ValueError):
    """The CSV cannot be scored as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Table:
    """A CSV's time column and numeric columns."""

    times: list[str]
    columns: dict[str, np.ndarray]
    # rows whose time is earlier than the row before (scored in file order, reported)
    out_of_order: int = 0


def read_table(path: Path, sep: str, time_col: str, columns: Sequence[str] | None) -> Table:
    """Read the time column and numeric columns (empty or unparsable cells become NaN)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh, delimiter=sep)
        header = reader.fieldnames or []
        if time_col not in header:
            raise CsvError(f"{path}: no time column {time_col!r}; columns are {header}")
        wanted = list(columns) if columns else [c for c in header if c != time_col]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise CsvError(f"{path}: no column(s) {missing}; columns are {header}")
        rows = list(reader)
    times = [r[time_col] for r in rows]
    late = _out_of_order(path, times)
    data = {c: np.array([_num(r[c]) for r in rows], dtype=np.float64) for c in wanted}
    return Table(times, data, late)


def _num(cell: str | None) -> float:
    try:
        return float(cell) if cell not in (None, "") else math.nan
    except ValueError:
        return math.nan


def _out_of_order(path: Path, times: list[str]) -> int:
    """How many rows are earlier than their predecessor (time values must parse)."""
    try:
        parsed = [datetime.fromisoformat(t) for t in times]
    except ValueError:
        try:
            parsed = [datetime.fromtimestamp(float(t)) for t in times]
        except ValueError as exc:
            raise CsvError(f"{path}: time values must be ISO 8601 or epoch seconds") from exc
    return sum(parsed[i] < parsed[i - 1] for i in range(1, len(parsed)))


def score_table(table: Table, config: DetectorConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per column: (score in [0, 1), flag bitmask) for every row."""
    out = {}
    for name, values in table.columns.items():
        v = SeriesDetector(config).update(values)
        out[name] = (v.score, v.flags)
    return out


def write_scores(
    path: Path, table: Table, scores: dict[str, tuple[np.ndarray, np.ndarray]], sep: str
) -> int:
    """Write per-column scores and flags plus the combined columns; returns flagged rows."""
    names = list(scores)
    combined = np.max(np.stack([scores[n][0] for n in names]), axis=0)
    any_flag = np.any(np.stack([scores[n][1] > 0 for n in names]), axis=0)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=sep)
        w.writerow(
            [
                "timestamp",
                *(f"{n}_{k}" for n in names for k in ("score", "flags")),
                "anomaly_score",
                "anomaly",
            ]
        )
        for i, t in enumerate(table.times):
            cells: list[object] = [t]
            for n in names:
                s, f = scores[n]
                cells += [f"{s[i]:.4f}", "|".join(flag_names(int(f[i])))]
            cells += [f"{combined[i]:.4f}", int(any_flag[i])]
            w.writerow(cells)
    return int(any_flag.sum())
