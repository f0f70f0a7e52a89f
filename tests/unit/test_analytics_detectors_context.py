"""Detectors under the shapes real series have: ramps, daily cycles, rain-fed creep."""

from __future__ import annotations

import numpy as np

from analytics.detectors.rules import SlopeRule
from analytics.detectors.seasonal import hour_bins, hourly_profile, season_at
from analytics.detectors.tracker import Tracker
from analytics.detectors.univariate import DRIFT, NOISE, SPIKE, DetectorConfig, SeriesDetector
from analytics.detectors.windows import trend_z

MINUTE = 60.0


def _daily(days: float, amplitude: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Minute readings with a daily square-ish cycle (busy day, quiet night) and noise."""
    t = 1.7e9 + np.arange(int(days * 1440)) * MINUTE
    day = ((t // 3600) % 24 >= 7) & ((t // 3600) % 24 < 22)
    x = 10.0 + amplitude * day + np.random.default_rng(seed).normal(0.0, 1.0, len(t))
    return t, x


def test_trend_z_is_small_on_a_clean_ramp_and_large_on_a_spike() -> None:
    x = np.arange(400.0) * 0.5 + np.random.default_rng(0).normal(0.0, 0.1, 400)
    x[300] += 5.0
    z = trend_z(x[:61], x[61:], 61, 0.1)
    assert np.abs(np.delete(z, 300 - 61)).max() < 6.0
    assert z[300 - 61] > 20.0


def test_a_steady_ramp_is_neither_spike_nor_noise() -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate(
        [rng.normal(0.0, 0.2, 2000), 0.05 * np.arange(2000) + rng.normal(0, 0.2, 2000)]
    )
    v = SeriesDetector().update(x)
    assert not (v.flags & (SPIKE | NOISE)).any()


def test_a_large_spike_on_a_ramp_is_found() -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate(
        [rng.normal(0.0, 0.2, 2000), 0.05 * np.arange(2000) + rng.normal(0, 0.2, 2000)]
    )
    # 60 sd: the ramp widens the level window's MAD (to about 5 noise sds here) and the spike
    # limit is at least 9 of those, so smaller spikes on steep ramps hide
    x[3000] += 12.0
    assert 3000 in np.flatnonzero(SeriesDetector().update(x).flags & SPIKE)


def test_hourly_profile_learns_the_cycle() -> None:
    t, x = _daily(7, 8.0)
    profile = hourly_profile(t, x)
    assert len(profile) == 24
    assert profile[12] - profile[2] > 7.0
    assert np.allclose(season_at(profile, t[:5], 5), [profile[b] for b in hour_bins(t[:5])])
    assert hourly_profile(t[:600], x[:600]) == ()  # ten hours: bins unfilled


def test_a_daily_cycle_is_not_drift_with_timestamps_but_a_shift_beyond_it_is() -> None:
    t, x = _daily(30, 8.0)
    week = DetectorConfig(warmup=7 * 1440)
    quiet = SeriesDetector(week).update(x, t)
    assert not (quiet.flags & DRIFT).any()
    drifting = x.copy()
    start = 20 * 1440
    # The limit is learnt on the raw warm-up, daily swing included (see learn_limits), so a
    # drift must outgrow the swing (8) to count: here 20 over a day.
    drifting[start:] += np.minimum(np.arange(len(x) - start) / 1440.0, 1.0) * 20.0
    loud = SeriesDetector(week).update(drifting, t)
    hits = np.flatnonzero(loud.flags & DRIFT)
    assert len(hits) and start < hits[0] < start + 2 * 1440


def test_slope_warning_wobbling_around_its_line_is_one_episode() -> None:
    # creep at the reference rate with a daily wobble: the rate crosses the line many times
    t = np.arange(0, 20 * 86400, 600.0)
    rate = np.where(t > 10 * 86400, 2.0 + 0.4 * np.sin(t / 7200.0), 0.5)  # mm/day
    disp = np.cumsum(rate * 600.0 / 86400.0)
    rule = SlopeRule("s", "d", v_ref_per_day=2.0)
    tracker = Tracker(rule.hold_s)
    episodes = 0
    for i in range(0, len(t), 36):
        sig = tracker.process(t[i : i + 36], rule.evaluate(t[i : i + 36], disp[i : i + 36]))
        episodes += sig.episodes if sig else 0
    assert episodes == 1


def test_a_cumulative_series_that_moved_in_its_warm_up_still_sees_spikes() -> None:
    # a GNSS station: 1.5 mm noise, a storm moves the slope 60 mm on day 3 of the warm-up
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 1.5, 20 * 1440)
    x[3 * 1440 :] += np.minimum(np.arange(17 * 1440) / 720.0, 1.0) * 60.0
    x[15 * 1440] += 30.0
    det = SeriesDetector(DetectorConfig(warmup=7 * 1440))
    assert 15 * 1440 in np.flatnonzero(det.update(x).flags & SPIKE)
    assert det.limits is not None and det.limits.local_sd < det.limits.level_sd / 5
