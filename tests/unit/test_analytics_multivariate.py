"""The multivariate model: a broken correlation is flagged though each metric looks normal."""

from __future__ import annotations

import numpy as np

from analytics.detectors.multivariate import MultivariateModel, carry_forward, features
from analytics.monitor.pipeline import DevicePipeline


def _rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    load = rng.uniform(0.2, 1.0, n).repeat(1)
    load = np.convolve(load, np.ones(20) / 20, mode="same")
    current = 100 * load + rng.normal(0, 1, n)
    temp = 40 + 30 * load + rng.normal(0, 0.5, n)
    return np.column_stack([current, temp])


def test_features_shape_and_values() -> None:
    rows = np.arange(20.0).reshape(10, 2)
    f = features(rows, 4)
    assert f.shape == (7, 6) and f[0, 0] == np.mean([0, 2, 4, 6]) and f[0, 4] == 6.0


def test_carry_forward_fills_gaps() -> None:
    rows = np.array([[1.0, np.nan], [np.nan, 2.0], [3.0, np.nan]])
    assert carry_forward(rows).tolist() == [[1.0, 0.0], [1.0, 2.0], [3.0, 2.0]]


def test_broken_correlation_is_flagged_and_model_round_trips() -> None:
    model = MultivariateModel.fit(("current", "temp"), [_rows(3000, 1), _rows(3000, 2)])
    test = _rows(400, 3)
    test[200:260] = [100.0, 40 + 30 * 0.2]  # full current, yet the temperature of an idle motor
    scores, flags = model.score_rows(test)
    at = model.window - 1  # scores[i] belongs to the window ending at row i + at
    assert flags[30 - at : 195 - at].mean() < 0.05 and flags[200 - at : 215 - at].any()
    again = MultivariateModel.loads(model.dumps())
    assert np.allclose(again.score_rows(test)[0], scores)


def test_pipeline_raises_model_alert() -> None:
    model = MultivariateModel.fit(("bearing_temp_c", "motor_current_a"), [_rows(3000, 4)[:, ::-1]])
    pipe = DevicePipeline("p", "pump-motor", model=model)
    rows = _rows(600, 5)[:, ::-1]
    rows[400:] = [40 + 30 * 0.2, 100.0]
    ts = 1.7e9 + np.arange(600) * 10.0
    found = pipe.judge_many(
        {"bearing_temp_c": (ts, rows[:, 0]), "motor_current_a": (ts, rows[:, 1])}
    )
    hit = [f for f in found if f.rule == "model:multivariate"]
    assert hit and hit[0].signal.first_ts is not None and hit[0].signal.first_ts >= ts[400]
    assert "multivariate model" in hit[0].sentence
