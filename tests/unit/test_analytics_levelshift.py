"""The range-breakout / level-shift scorer on synthetic series with known answers."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

from analytics.detectors.univariate import DetectorConfig
from analytics.evaluation import nab
from analytics.evaluation.evaluate import nab_scores
from analytics.evaluation.levelshift import ALARM_Z, ShiftAlarms, ShiftScorer, z_to_score
from analytics.evaluation.scoring import Table, score_table, write_scores

N, AT, WARMUP = 6000, 3000, 750


def _noise(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(10.0, 1.0, N)


def _alarms(x: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(ShiftAlarms(warmup=WARMUP).update(x)[1])]


def test_step_is_flagged_within_a_few_readings() -> None:
    x = _noise()
    x[AT:] += 3.0
    alarms = _alarms(x)
    assert alarms and AT <= alarms[0] <= AT + 10
    # the level-shift part finds it on its own too, once the recent mean has moved
    z = ShiftScorer().update(x).z
    assert z[:AT].max() < 1.0 and z[AT : AT + 50].max() >= ALARM_Z


def test_spike_beyond_the_range_is_flagged_at_once() -> None:
    x = np.random.default_rng(1).uniform(9.0, 11.0, N)
    x[AT] = 14.0
    assert _alarms(x) == [AT]


def test_frequency_change_is_flagged_by_the_roughness_shift() -> None:
    t = np.arange(N)
    x = np.where(t < AT, np.sin(2 * np.pi * t / 100), np.sin(2 * np.pi * t / 20))
    x = x + np.random.default_rng(2).normal(0.0, 0.05, N)
    v = ShiftScorer().update(x)
    alarms = _alarms(x)
    assert alarms and AT <= alarms[0] <= AT + 50
    assert v.rough_z[alarms[0]] >= ALARM_Z > float(v.z[alarms[0]])


def test_bounded_stationary_noise_is_not_flagged() -> None:
    assert _alarms(np.random.default_rng(3).uniform(9.0, 11.0, N)) == []


def test_gaussian_noise_only_rarely_breaks_its_range() -> None:
    for seed in range(5):
        v = ShiftScorer().update(_noise(seed))
        # the mean of 50 readings moves far less than ALARM_Z standard deviations
        assert np.max(np.maximum(v.z, v.rough_z)[WARMUP:]) < 1.0
        # a new all-time extreme (by 5 % of the range) is rare: ~ln(n) records in n readings
        assert v.breakout[WARMUP:].sum() <= 4


def test_batches_and_gaps_give_the_whole_series_answer() -> None:
    x = _noise()
    x[AT:] += 3.0
    x[[5, 100, 2999]] = np.nan
    whole_s, whole_a = ShiftAlarms(warmup=WARMUP).update(x)
    stack, cuts = ShiftAlarms(warmup=WARMUP), [0, 1, 7, 400, 401, 2500, 3333, N]
    parts = [stack.update(x[a:b]) for a, b in pairwise(cuts)]
    assert np.allclose(whole_s, np.concatenate([p[0] for p in parts]))
    assert np.array_equal(whole_a, np.concatenate([p[1] for p in parts]))
    assert whole_s[100] == 0.0 and whole_s[:WARMUP].max() == 0.0


def test_score_is_in_unit_interval_and_monotone_in_z() -> None:
    s = z_to_score(np.array([0.0, 1.0, 2.25, 5.0, 40.0]))
    assert s[0] == 0.0 and np.all(np.diff(s) >= 0) and s[-1] <= 1.0


def test_servitize_score_runs_the_nab_stack(tmp_path: Path) -> None:
    x = _noise()
    x[AT:] += 3.0
    f = nab.NabFile("x.csv", x, ((AT - 100, AT + 100),))
    table = Table([str(i) for i in range(N)], {"v": x})
    cols = score_table(table, DetectorConfig(warmup=f.probation))
    assert np.allclose(cols["v"].score, nab_scores([f])[0])
    out = tmp_path / "s.csv"
    flagged = write_scores(out, table, cols, ",")
    header = out.read_text().splitlines()[0]
    assert header == "timestamp,v_score,v_flags,anomaly_score,anomaly,v_alarm"
    assert flagged == int(cols["v"].alarm.sum()) >= 1
