"""Catalog rules, the slope early warning, the tracker's hysteresis and the pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.detectors.rules import (
    Condition,
    RateRule,
    SlopeRule,
    ThresholdRule,
    severity_rank,
    slope_level,
)
from analytics.detectors.tracker import Tracker
from analytics.monitor.pipeline import DevicePipeline

T0 = 1_700_000_000.0


def test_threshold_needs_its_duration_across_batches() -> None:
    rule = ThresholdRule("hot", "t", ">", 80.0, for_s=120)
    ts = (T0 + np.arange(20) * 10.0).astype(np.float64)
    x = np.full(20, 85.0)
    first = rule.evaluate(ts[:5], x[:5])
    second = rule.evaluate(ts[5:], x[5:])
    fired = np.concatenate([first.firing, second.firing])
    assert not fired[:12].any() and fired[12:].all()  # 120 s after the first hot reading


def test_threshold_clear_needs_hysteresis() -> None:
    rule = ThresholdRule("hot", "t", ">", 80.0, hysteresis=3.0)
    cond = rule.evaluate((T0 + np.arange(3.0)).astype(np.float64), np.array([81.0, 79.0, 76.0]))
    assert list(cond.firing) == [True, False, False]
    assert list(cond.clear_ok) == [False, False, True]


def test_rate_rule_over_window() -> None:
    rule = RateRule("fast", "t", max_per_min=2.0, window_s=300)
    ts = (T0 + np.arange(100) * 10.0).astype(np.float64)
    x = np.where(np.arange(100) < 50, 20.0, 20.0 + (np.arange(100) - 50) * 1.0)  # 6 °C/min
    cond = rule.evaluate(ts, x)
    assert not cond.firing[:50].any() and cond.firing[62:].all()


@pytest.mark.parametrize(
    ("angle", "accel", "level"),
    [(30, 1, 0), (45, -1, 1), (60, 0, 1), (60, 1, 2), (82, 1, 3), (86, 1, 4), (86, -1, 1)],
)
def test_slope_levels(angle: float, accel: float, level: int) -> None:
    assert slope_level(np.array([float(angle)]), np.array([float(accel)]))[0] == level


def test_slope_rule_escalates_with_acceleration() -> None:
    rule = SlopeRule("slope", "gnss_disp_mm", 2.0, window_s=6 * 3600, learn_s=3 * 86400)
    hours = np.arange(0, 24 * 12, 1.0)
    ts = T0 + hours * 3600
    # Still for 4 days, creeping at 3 mm/day for 4 days, then accelerating exponentially.
    v = np.where(hours < 96, 0.0, np.where(hours < 192, 3.0, 3.0 * np.exp((hours - 192) / 20)))
    disp = np.cumsum(v / 24.0)
    first = rule.evaluate(ts[:96], disp[:96])  # the still period teaches v_ref
    rest = rule.evaluate(ts[96:], disp[96:])
    assert rule.v_ref == 2.0
    cond = Condition(
        *(np.concatenate([getattr(first, k), getattr(rest, k)]) for k in Condition.__slots__)
    )
    levels = cond.severity + cond.firing  # severity = level - 1 while firing
    assert not cond.firing[:96].any()
    assert (levels[150:190] == 1).all()  # blue: constant velocity
    assert levels.max() == 4 and severity_rank("critical") == cond.severity.max()


def test_tracker_flapping_is_one_episode() -> None:
    rule = ThresholdRule("hot", "t", ">", 80.0, hysteresis=2.0)
    tracker = Tracker(hold_s=60)
    ts = (T0 + np.arange(40) * 10.0).astype(np.float64)
    x = np.where(np.arange(40) % 2 == 0, 80.5, 79.5)  # flaps around the limit
    sig = tracker.process(ts, rule.evaluate(ts, x))
    assert sig is not None and sig.episodes == 1 and sig.active and sig.cleared_at is None
    later = (ts + 400).astype(np.float64)
    calm = tracker.process(later, rule.evaluate(later, np.full(40, 70.0)))
    assert calm is not None and calm.cleared_at == T0 + 400 + 60 and not calm.active


def test_pipeline_alerts_in_device_time_with_sentence() -> None:
    rng = np.random.default_rng(4)
    p = DevicePipeline("pump-1", "pump-motor", {"bearing_temp_c": "°C"})
    ts = T0 + np.arange(1000) * 10.0
    x = 60 + rng.normal(0, 0.3, 1000)
    x[700:] = 92.0 + rng.normal(0, 0.3, 300)
    found = {f.rule: f for f in p.judge("bearing_temp_c", ts, x)}
    hot = found["rule:bearing_temp_high"]
    assert hot.severity == "major" and hot.signal.first_ts == T0 + 7000 + 120
    assert "bearing_temp_c" in hot.sentence and "°C" in hot.sentence
    spike = found["spike:bearing_temp_c"]
    assert spike.signal.first_ts == T0 + 7000 and "above its recent median" in spike.sentence
    assert "MADs" not in spike.sentence and spike.evidence["z"] > 6  # the number: evidence


def test_late_reading_gets_a_point_check_in_device_time() -> None:
    p = DevicePipeline("slope-1", "slope-monitor", {"rainfall_mm": "mm"})
    ts = T0 + np.arange(400) * 60.0
    p.judge("rainfall_mm", ts, np.zeros(400))
    late = p.judge("rainfall_mm", np.array([T0 + 55.0]), np.array([42.0]))
    assert late and late[0].signal.first_ts == T0 + 55.0 and "late" in late[0].sentence
    assert p.series["rainfall_mm"].late == 1


def test_rise_over_ambient_uses_the_latest_reference() -> None:
    p = DevicePipeline("bot-1", "substation-robot", {"ir_max_temp_c": "°C"})
    ts = (T0 + np.arange(10) * 10.0).astype(np.float64)
    ambient = np.full(10, 20.0)
    ir = np.full(10, np.nan)
    ir[[3, 7]] = [45.0, 75.0]  # rises of 25 and 55 °C at two checkpoints
    at = np.isfinite(ir)
    found = p.judge_many({"ambient_temp_c": (ts, ambient), "ir_max_temp_c": (ts[at], ir[at])})
    hot = [f for f in found if f.rule == "rule:ir_hotspot"]
    assert hot and hot[0].signal.first_ts == ts[7] and hot[0].value == 55.0
    assert "above ambient" in hot[0].sentence
