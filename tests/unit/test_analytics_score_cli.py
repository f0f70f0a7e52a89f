"""`servitize score`: the contract a user relies on, on small CSVs made here.

Three correlated sensors, normal for the first 400 rows; rows 600-699 break the relation
between them (b leaves a's line), which no single sensor's range shows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from servitize.cli import main

N, TRAIN, FAULT = 1000, 400, (600, 700)


def _rows(n: int = N, seed: int = 0, fault: bool = True) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    a = np.sin(np.arange(n) / 25.0) * 5 + rng.normal(0, 0.3, n)
    b = 2 * a + rng.normal(0, 0.3, n)
    c = a - b / 4 + rng.normal(0, 0.3, n)
    label = np.zeros(n, dtype=int)
    if fault:
        b[FAULT[0] : FAULT[1]] -= 6.0
        label[FAULT[0] : FAULT[1]] = 1
    times = [f"2026-01-01 00:{i // 60 % 60:02d}:{i % 60:02d}" for i in range(n)]
    return [[times[i], a[i], b[i], c[i], label[i], label[i]] for i in range(n)]


def _csv(path: Path, rows: list[list[object]], header: list[str] | None = None) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(header or ["datetime", "a", "b", "c", "anomaly", "changepoint"])
        w.writerows(rows)
    return path


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    return rows[0], rows[1:]


def _score(src: Path, *extra: str) -> int:
    args = [str(src), "--sep", ";", "--time-col", "datetime", "--out", str(src) + ".out"]
    return main(["score", *args, *extra])


def test_contract_multivariate_state_is_last_column(tmp_path: Path) -> None:
    src = _csv(tmp_path / "m.csv", _rows())
    assert _score(src, "--columns", "a, b ,c", "--train-rows", str(TRAIN)) == 0
    header, rows = _read(Path(str(src) + ".out"))
    assert header[0] == "datetime" and header[-1] == "anomaly"
    assert len(set(header)) == len(header) and len(rows) == N
    assert header[1:4] == ["a_share", "b_share", "c_share"]
    state = np.array([int(r[-1]) for r in rows])
    assert set(state) <= {0, 1}
    inside = state[FAULT[0] : FAULT[1]].mean()
    outside = np.concatenate([state[TRAIN : FAULT[0]], state[FAULT[1] + 20 :]]).mean()
    assert inside > 0.9 and outside < 0.05
    shares = np.array([[float(x) for x in r[1:4]] for r in rows[FAULT[0] + 10 : FAULT[1]]])
    assert np.argmax(shares.mean(axis=0)) != 0  # b (or c, its partner) moved, not a alone


def test_label_columns_are_not_scored_unless_named(tmp_path: Path) -> None:
    src = _csv(tmp_path / "m.csv", _rows())
    assert _score(src, "--train-rows", str(TRAIN)) == 0
    header, _ = _read(Path(str(src) + ".out"))
    assert not any(h.startswith(("anomaly_share", "changepoint")) for h in header)
    assert header[1:4] == ["a_share", "b_share", "c_share"]
    assert _score(src, "--columns", "a,b,changepoint", "--train-rows", str(TRAIN)) == 0
    header, _ = _read(Path(str(src) + ".out"))
    assert "changepoint_share" in header


def test_train_file_trains_on_anomaly_free_recording(tmp_path: Path) -> None:
    src = _csv(tmp_path / "m.csv", _rows())
    free = _csv(tmp_path / "free.csv", _rows(n=500, seed=1, fault=False))
    assert _score(src, "--columns", "a,b,c", "--train-file", str(free)) == 0
    _, rows = _read(Path(str(src) + ".out"))
    state = np.array([int(r[-1]) for r in rows])
    assert len(rows) == N and state[FAULT[0] : FAULT[1]].mean() > 0.9
    assert state[: FAULT[0]].mean() < 0.05


def test_one_column_runs_the_univariate_stack_with_a_state(tmp_path: Path) -> None:
    rows = _rows()
    for r in rows[FAULT[0] :]:
        r[1] = float(r[1]) + 20.0  # type: ignore[arg-type]
    src = _csv(tmp_path / "u.csv", rows)
    assert _score(src, "--columns", "a", "--train-rows", str(TRAIN)) == 0
    header, out = _read(Path(str(src) + ".out"))
    assert header == [
        "datetime",
        "a_score",
        "a_flags",
        "a_alarm",
        "anomaly_score",
        "onset",
        "anomaly",
    ]
    assert int(out[FAULT[0] + 1][-1]) == 1 and int(out[FAULT[0] - 50][-1]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--columns", "a,zz", "--train-rows", "400"], "no column(s) ['zz']"),
        (["--columns", "a,b", "--train-rows", "10"], "need at least 50 training rows"),
        (["--columns", "a,b", "--train-rows", "5000"], "leaves no rows to score"),
        (["--columns", "a,a", "--train-rows", "400"], "more than once"),
    ],
)
def test_bad_requests_get_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    src = _csv(tmp_path / "m.csv", _rows())
    assert _score(src, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not Path(str(src) + ".out").exists()


def test_non_numeric_cell_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows()
    rows[7][2] = "n/a?"
    src = _csv(tmp_path / "m.csv", rows)
    assert _score(src, "--columns", "a,b", "--train-rows", "400") == 2
    err = capsys.readouterr().err.strip()
    assert "column 'b', data row 8: 'n/a?' is not a number" in err and "\n" not in err


def test_empty_cells_are_carried_not_errors(tmp_path: Path) -> None:
    rows = _rows()
    rows[450][1] = ""
    src = _csv(tmp_path / "m.csv", rows)
    assert _score(src, "--columns", "a,b,c", "--train-rows", "400") == 0
    _, out = _read(Path(str(src) + ".out"))
    assert int(out[450][-1]) == 0


def test_output_names_stay_unique_when_inputs_clash(tmp_path: Path) -> None:
    header = ["datetime", "a", "a_share", "onset", "anomaly", "changepoint"]
    src = _csv(tmp_path / "m.csv", _rows(), header)
    assert _score(src, "--columns", "a,a_share,onset", "--train-rows", "400") == 0
    names, _ = _read(Path(str(src) + ".out"))
    assert len(set(names)) == len(names) and names[0] == "datetime" and names[-1] == "anomaly"


def test_unique_names_suffix_later_repeats() -> None:
    from analytics.evaluation.csvscore import unique_names

    assert unique_names(["t", "a", "t", "a", "t_2"]) == ["t", "a", "t_2", "a_2", "t_2_2"]
