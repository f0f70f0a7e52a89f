"""Score any timestamped CSV with the streaming detectors: per-row scores and flags.

The score and alarm are the NAB-evaluated stack (`ShiftAlarms`: range breakout + level shift,
threshold, refractory), so a user gets what `servitize evaluate nab` measured; the flags name
the production `SeriesDetector` kinds (spike, drift, stuck, noise) seen at each row.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from analytics.detectors.univariate import DetectorConfig, SeriesDetector, flag_names
from analytics.evaluation.levelshift import ShiftAlarms


class CsvError(ValueError):
    """The CSV cannot be scored as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Table:
    """A CSV's time column and numeric columns."""

    times: list[str]
    columns: dict[str, np.ndarray]
    # rows whose time is earlier than the row before (scored in file order, reported)
    out_of_order: int = 0


# Columns that hold ground truth or annotations, never scored unless named in --columns.
LABEL_LIKE = frozenset(
    {
        "anomaly",
        "anomalies",
        "changepoint",
        "label",
        "labels",
        "is_anomaly",
        "outlier",
        "attack",
        "fault",
        "target",
        "class",
        "ground_truth",
    }
)


def parse_columns(text: str | None) -> list[str] | None:
    """'a, b ,c' -> ['a', 'b', 'c'] (spaces around commas ignored); None or '' -> None."""
    if not text or not text.strip():
        return None
    names = [c.strip() for c in text.split(",") if c.strip()]
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise CsvError(f"--columns names {dupes} more than once")
    return names


def read_table(path: Path, sep: str, time_col: str, columns: Sequence[str] | None) -> Table:
    """Read the time column and numeric columns (empty cells become NaN; text is an error).

    Without `columns`: every column but the time column and label-like ones (LABEL_LIKE)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh, delimiter=sep)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        if time_col not in header:
            raise CsvError(f"{path}: no time column {time_col!r}; columns are {header}")
        wanted = list(columns) if columns else _default_columns(header, time_col)
        missing = [c for c in wanted if c not in header]
        if missing:
            raise CsvError(f"{path}: no column(s) {missing}; columns are {header}")
        if not wanted:
            raise CsvError(f"{path}: no columns to score besides {time_col!r}")
        rows = list(reader)
    times = [r[time_col] for r in rows]
    data = {c: _numbers(path, c, [r[c] for r in rows]) for c in wanted}
    return Table(times, data, _out_of_order(times))


def _default_columns(header: list[str], time_col: str) -> list[str]:
    return [c for c in header if c != time_col and c.lower() not in LABEL_LIKE]


def _numbers(path: Path, column: str, cells: list[str | None]) -> np.ndarray:
    out = np.empty(len(cells), dtype=np.float64)
    for i, cell in enumerate(cells):
        text = (cell or "").strip()
        try:
            out[i] = float(text) if text else math.nan
        except ValueError:
            raise CsvError(
                f"{path}: column {column!r}, data row {i + 1}: {text[:40]!r} is not a number"
            ) from None
    return out


def _out_of_order(times: list[str]) -> int:
    """How many rows are earlier than their predecessor (-1: times not ISO 8601 or epoch)."""
    try:
        parsed = [datetime.fromisoformat(t.strip()) for t in times]
    except ValueError:
        try:
            parsed = [datetime.fromtimestamp(float(t)) for t in times]
        except (ValueError, OverflowError, OSError):
            return -1
    try:
        return sum(parsed[i] < parsed[i - 1] for i in range(1, len(parsed)))
    except TypeError:  # naive and aware times mixed
        return -1


@dataclass(frozen=True, slots=True)
class ColumnScores:
    """One column's per-row results."""

    score: np.ndarray  # ShiftAlarms score in [0, 1]
    alarm: np.ndarray  # ShiftAlarms alarm (threshold + refractory)
    flags: np.ndarray  # SeriesDetector flag bitmask


def score_table(table: Table, config: DetectorConfig) -> dict[str, ColumnScores]:
    """Per column: score, alarm and flag bitmask for every row (warm-up = config.warmup)."""
    out = {}
    for name, values in table.columns.items():
        score, alarm = ShiftAlarms(warmup=config.warmup).update(values)
        out[name] = ColumnScores(score, alarm, SeriesDetector(config).update(values).flags)
    return out


def write_scores(path: Path, table: Table, scores: dict[str, ColumnScores], sep: str) -> int:
    """Write per-column score, flags and alarm plus the combined columns; returns alarm rows."""
    names = list(scores)
    combined = np.max(np.stack([scores[n].score for n in names]), axis=0)
    any_alarm = np.any(np.stack([scores[n].alarm for n in names]), axis=0)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=sep)
        w.writerow(
            [
                "timestamp",
                *(f"{n}_{k}" for n in names for k in ("score", "flags")),
                "anomaly_score",
                "anomaly",
                *(f"{n}_alarm" for n in names),
            ]
        )
        for i, t in enumerate(table.times):
            cells: list[object] = [t]
            for n in names:
                c = scores[n]
                cells += [f"{c.score[i]:.6f}", "|".join(flag_names(int(c.flags[i])))]
            cells += [f"{combined[i]:.6f}", int(any_alarm[i])]
            cells += [int(scores[n].alarm[i]) for n in names]
            w.writerow(cells)
    return int(any_alarm.sum())
