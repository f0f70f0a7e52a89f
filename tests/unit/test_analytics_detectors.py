"""Streaming detectors on synthetic series with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.detectors.univariate import (
    DRIFT,
    NOISE,
    SPIKE,
    STUCK,
    DetectorConfig,
    SeriesDetector,
)
from analytics.detectors.windows import lindley, run_lengths, true_runs


def _base(n: int = 3000, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(50.0, 1.0, n)


def _flagged(x: np.ndarray, bit: int) -> np.ndarray:
    return np.flatnonzero(SeriesDetector().update(x).flags & bit)


def test_clean_series_raises_nothing() -> None:
    assert not SeriesDetector().update(_base(5000)).flags.any()


def test_spike_is_found_exactly_where_it_is() -> None:
    x = _base()
    x[1500] += 12
    assert list(_flagged(x, SPIKE)) == [1500]


def test_drift_is_found_after_it_starts() -> None:
    x = _base()
    x[1500:] += np.linspace(0, 6, 1500)
    hits = _flagged(x, DRIFT)
    assert len(hits) and 1500 < hits[0] < 2200


def test_stuck_sensor_is_found() -> None:
    x = _base()
    x[1500:1600] = x[1499]
    hits = _flagged(x, STUCK)
    assert hits[0] >= 1500 and hits[-1] == 1599 and len(hits) > 80


def test_a_reading_held_at_its_catalog_bound_is_saturated_not_stuck() -> None:
    x = np.minimum(_base() + 47.0, 100.0)  # humidity near 97 %
    x[1500:1600] = 100.0  # fog: the sensor reads full scale for 100 readings
    assert len(_flagged(x, STUCK))
    bounded = SeriesDetector(bounds=(0.0, 100.0)).update(x)
    assert not (bounded.flags & STUCK).any()


def test_noise_increase_is_found() -> None:
    x = _base()
    x[1500:1800] += np.random.default_rng(5).normal(0, 4.0, 300)
    hits = _flagged(x, NOISE)
    assert len(hits) > 100 and hits[0] >= 1500 and hits[-1] < 1830


def test_warmup_readings_are_never_flagged() -> None:
    x = _base()
    x[10] += 100
    v = SeriesDetector().update(x)
    assert not v.flags[: DetectorConfig().warmup].any()


def test_batched_equals_one_batch() -> None:
    x = _base()
    x[1200] += 15
    x[1500:2500] += np.linspace(0, 10, 1000)
    whole = SeriesDetector().update(x)
    d = SeriesDetector()
    parts = [d.update(x[i : i + 7]) for i in range(0, len(x), 7)]
    assert np.array_equal(np.concatenate([p.flags for p in parts]), whole.flags)
    assert np.allclose(np.concatenate([p.score for p in parts]), whole.score)


def test_thresholds_adapt_to_heavy_tails() -> None:
    x = np.random.default_rng(3).standard_t(2, 3000) + 10
    d = SeriesDetector()
    d.update(x)
    assert d.limits is not None and d.limits.spike_z > DetectorConfig().min_spike_z


def test_non_finite_values_are_skipped() -> None:
    x = _base()
    x[1000] = np.nan
    v = SeriesDetector().update(x)
    assert v.flags[1000] == 0 and np.isnan(v.z[1000]) and np.isfinite(v.z[1001])


def test_lindley_matches_loop() -> None:
    steps = np.random.default_rng(0).normal(-0.2, 1, 500)
    s, expected = 3.0, []
    for d in steps:
        s = max(0.0, s + d)
        expected.append(s)
    assert np.allclose(lindley(steps, 3.0), expected)


def test_run_helpers() -> None:
    assert list(run_lengths(1.0, np.array([1.0, 1.0, 2.0, 2.0]), 3)) == [4, 5, 1, 2]
    assert list(true_runs(np.array([True, False, True, True]), 2)) == [3, 0, 1, 2]


def test_config_validates() -> None:
    with pytest.raises(ValueError):
        DetectorConfig(window=100, warmup=50)


def _gapped() -> tuple[np.ndarray, np.ndarray]:
    """Readings every 10 s; a step fault at 1,400 lasts until a 2 h gap at 1,600, then ends."""
    x = _base()
    x[1400:1600] += 30.0
    t = np.arange(len(x)) * 10.0
    t[1600:] += 7200.0
    return x, t


def test_windows_left_stale_by_a_gap_are_refilled_before_judging() -> None:
    x, t = _gapped()
    stale = SeriesDetector(DetectorConfig(stale_s=610.0)).update(x, t)
    assert (stale.flags[1400:1600] & SPIKE).any()  # the step is seen as it starts
    window = DetectorConfig().window
    assert not stale.flags[1600 : 1600 + window].any()  # refilling: not judged
    assert np.isnan(stale.z[1600 : 1600 + window]).all()
    assert not (stale.flags[1600:] & SPIKE).any()  # the healthy readings after it are fine
    frozen = SeriesDetector().update(x, t)
    assert (frozen.flags[1600:1610] & SPIKE).any(), "without stale_s the return is a spike"


def test_batched_equals_one_batch_across_a_gap() -> None:
    x, t = _gapped()
    cfg = DetectorConfig(stale_s=610.0)
    whole = SeriesDetector(cfg).update(x, t)
    d = SeriesDetector(cfg)
    parts = [d.update(x[i : i + 7], t[i : i + 7]) for i in range(0, len(x), 7)]
    assert np.array_equal(np.concatenate([p.flags for p in parts]), whole.flags)
    assert np.allclose(np.concatenate([p.score for p in parts]), whole.score)


def test_a_regime_returning_after_hours_away_restarts_its_drift_from_its_new_level() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(50.0, 1.0, 3000)
    x[1600:] += 3.0  # warmer the next night: three sds, reached while the pump ran
    t = np.arange(len(x), dtype=np.float64) * 10.0
    t[1600:] += 16 * 3600.0
    carried = SeriesDetector(DetectorConfig(stale_s=610.0)).update(x, t)
    assert (carried.flags[1600:] & DRIFT).any(), "judged against last night's level"
    restarted = SeriesDetector(DetectorConfig(stale_s=610.0, gap_restarts_drift=True))
    assert not (restarted.update(x, t).flags & DRIFT).any()
    ramp = x.copy()
    ramp[2000:] += np.linspace(0.0, 15.0, 1000)  # a real drift within one stretch
    again = SeriesDetector(DetectorConfig(stale_s=610.0, gap_restarts_drift=True))
    assert (again.update(ramp, t).flags[2000:] & DRIFT).any()
