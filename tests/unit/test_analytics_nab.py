"""The NAB scorer on hand-computed cases, and the refractory helper."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.evaluation import nab
from analytics.evaluation.refractory import Refractory


def _sig(y: float) -> float:
    return 2 / (1 + math.exp(5 * y)) - 1


F = nab.NabFile("x.csv", np.zeros(2000), ((1000, 1099),))


def _det(*rows: int) -> np.ndarray:
    d = np.zeros(2000, dtype=bool)
    d[list(rows)] = True
    return d


def test_probation_is_15_percent_capped_at_750() -> None:
    assert F.probation == 300
    assert nab.NabFile("y", np.zeros(10000), ()).probation == 750


def test_early_detection_scores_nearly_one_and_only_first_counts() -> None:
    raw, tp, fp, fn = nab.score_file(F, _det(1000, 1050), "standard")
    assert raw == pytest.approx(_sig(-99 / 100) / _sig(-1)) and (tp, fp, fn) == (1, 0, 0)


def test_miss_costs_a_fn_and_probation_is_ignored() -> None:
    assert nab.score_file(F, _det(10), "standard")[0] == -1.0
    assert nab.score_file(F, _det(10), "reward_low_FN_rate")[0] == -2.0


def test_false_positives_before_and_after_the_window() -> None:
    raw, _, fp, _ = nab.score_file(F, _det(500, 1080, 1200), "standard")
    expected = -0.11 + _sig(-19 / 100) / _sig(-1) + 0.11 * _sig(101 / 100)
    assert fp == 2 and raw == pytest.approx(expected)


def test_normalised_null_and_perfect() -> None:
    files = [F, F]
    assert nab.normalised(-2.0, files, "standard") == 0.0
    assert nab.normalised(2.0, files, "standard") == 100.0
    assert nab.normalised(-4.0, files, "reward_low_FN_rate") == 0.0


def test_refractory_keeps_first_of_each_episode() -> None:
    r = Refractory(3)
    a = r.update(np.array([1, 1, 0, 0, 1, 1, 0, 0, 0, 1], dtype=bool))
    assert list(np.flatnonzero(a)) == [0, 4, 9]
