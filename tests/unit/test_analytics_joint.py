"""Joint (multivariate) detectors on synthetic data with a known anomaly, and the state."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from analytics.detectors.joint import JointDetector, JointKind, smooth, tail_limit
from analytics.detectors.pca import PcaFit
from analytics.detectors.similarity import SimilarityModel
from analytics.detectors.state import AnomalyState, Hysteresis

SENSORS = tuple(f"s{i}" for i in range(6))


def _plant(n: int, seed: int) -> np.ndarray:
    """Six sensors driven by two hidden factors (load, temperature) plus noise."""
    rng = np.random.default_rng(seed)
    load = np.sin(np.arange(n) / 40.0) + rng.normal(0, 0.1, n)
    temp = np.sin(np.arange(n) / 97.0 + 1.0) + rng.normal(0, 0.1, n)
    mix = np.array([[1, 0], [2, 0.5], [0, 1], [0.5, 1], [1, -1], [-1, 0.3]])
    out: np.ndarray = np.column_stack([load, temp]) @ mix.T + rng.normal(0, 0.05, (n, 6))
    return out


def _faulty(seed: int, size: float = 0.6) -> np.ndarray:
    x = _plant(2000, seed)
    x[1400:1500, 3] += size  # sensor s3 leaves its relation to the others
    return x


# The similarity model misses the 0.6 shift (about half a standard deviation of s3, inside
# its kernel's reach: the estimate follows the row part of the way); PCA's Q sees it.
@pytest.mark.parametrize(
    ("kind", "size"), [(JointKind.PCA, 0.6), (JointKind.BOTH, 0.6), (JointKind.SIMILARITY, 1.0)]
)
def test_known_anomaly_is_one_episode_and_names_the_sensor(kind: JointKind, size: float) -> None:
    x = _faulty(seed=1, size=size)
    det = JointDetector.train(SENSORS, x[:1000], kind)  # 1.6 cycles of the slow factor
    out = det.score(x)
    assert out.state[1400:1500].mean() > 0.9
    assert out.state[1000:1400].mean() < 0.03 and out.state[1530:].mean() < 0.03
    assert out.onset[1395:1410].sum() == 1
    assert np.argmax(out.shares[1410:1500].mean(axis=0)) == 3
    assert np.allclose(out.shares.sum(axis=1), 1.0)


def test_limits_come_from_held_out_training_rows() -> None:
    x = _plant(3000, seed=2)
    det = JointDetector.train(SENSORS, x[:500], JointKind.PCA)
    score, _ = det.evaluate(x[500:])
    # fresh normal rows exceed the limit rarely; in-sample limits would be far tighter
    assert (score >= 1.0).mean() < 0.01
    assert det.score(x[:500]).state.mean() < 0.02


def test_pca_t2_parts_sum_to_t2_and_q_is_off_subspace() -> None:
    z = _plant(800, seed=3)
    z = (z - z.mean(0)) / z.std(0)
    fit = PcaFit.fit(z)
    t2, q, t2_parts, q_parts = fit.statistics(z)
    assert fit.loadings.shape[1] == 2  # the two hidden factors explain >= 85 %
    assert np.allclose(t2_parts.sum(axis=1), t2) and np.allclose(q_parts.sum(axis=1), q)
    assert t2.mean() == pytest.approx(2 * (len(z) - 1) / len(z))  # k, for in-sample rows
    on_plane = z @ fit.loadings @ fit.loadings.T
    assert np.allclose(fit.statistics(on_plane)[1], 0.0, atol=1e-9)


def test_similarity_estimates_normal_rows_and_not_unusual_ones() -> None:
    z = _plant(800, seed=4)
    z = (z - z.mean(0)) / z.std(0)
    model = SimilarityModel.train(z[:600])
    normal = np.abs(model.residuals(z[600:])).mean()
    odd = z[600:].copy()
    odd[:, 2] += 3.0
    assert np.abs(model.residuals(odd))[:, 2].mean() > 5 * normal


def test_too_few_training_rows_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least 50 training rows"):
        JointDetector.train(SENSORS, _plant(20, seed=0))


def test_missing_cells_are_carried_forward() -> None:
    x = _faulty(seed=5)
    x[1200:1205, 2] = np.nan
    det = JointDetector.train(SENSORS, x[:1000])
    assert not det.score(x).state[1200:1220].any()


def test_smooth_and_tail_limit() -> None:
    s = smooth(np.arange(8.0).reshape(-1, 1), window=3)[:, 0]
    assert np.allclose(s, [0, 0.5, 1, 2, 3, 4, 5, 6])
    rng = np.random.default_rng(0)
    expo = rng.exponential(1.0, (200_000, 1))
    assert tail_limit(expo)[0] == pytest.approx(np.log(1000), rel=0.03)


def test_state_hysteresis_holds_and_releases() -> None:
    rule = Hysteresis(enter=1.0, leave=0.8, hold=3)
    s = np.array([0, 1.2, 0.9, 0.7, 0.7, 0.85, 0.7, 0.7, 0.7, 0.1, 1.5, 0])
    state, onset = AnomalyState(rule).update(s)
    assert state.astype(int).tolist() == [0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1]
    assert np.flatnonzero(onset).tolist() == [1, 10]


def test_state_is_exact_across_batches() -> None:
    rng = np.random.default_rng(7)
    s = np.abs(rng.normal(0, 0.6, 5000))
    whole = AnomalyState().update(s)
    stream, cuts = AnomalyState(), [0, 1, 2, 17, 18, 400, 401, 2999, 5000]
    parts = [stream.update(s[a:b]) for a, b in pairwise(cuts)]
    assert np.array_equal(whole[0], np.concatenate([p[0] for p in parts]))
    assert np.array_equal(whole[1], np.concatenate([p[1] for p in parts]))
    assert whole[1].sum() >= 5


def test_hysteresis_validates() -> None:
    with pytest.raises(ValueError):
        Hysteresis(enter=1.0, leave=1.2)
