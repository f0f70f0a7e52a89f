"""Operating regimes, tail-extrapolated limits, persistent noise and companion muting."""

from __future__ import annotations

import numpy as np

from analytics.detectors.regime import RUNNING, SETTLING, STOPPED, Regime, RegimeState
from analytics.detectors.univariate import NOISE, DetectorConfig, SeriesDetector
from analytics.detectors.windows import tail_limit
from analytics.monitor.pipeline import DevicePipeline

T0 = 1.7e9


def test_regime_phases_follow_the_driver_with_a_settling_time() -> None:
    state = RegimeState(Regime("current", 0.5, settle_s=100.0))
    ts = T0 + np.arange(0, 1000, 10.0)
    current = np.where((ts - T0 >= 300) & (ts - T0 < 700), 40.0, 0.0)
    phases = []
    for part in (slice(0, 50), slice(50, 100)):  # two batches: the switch state carries over
        state.observe(ts[part], current[part])
        phases.append(state.phase(ts[part]))
    phase = np.concatenate(phases)
    assert (phase[:10] == SETTLING).all() and (phase[10:30] == STOPPED).all()
    assert (phase[30:40] == SETTLING).all() and (phase[40:70] == RUNNING).all()
    assert (phase[70:80] == SETTLING).all() and (phase[80:] == STOPPED).all()


def _shift_pump(days: int, seed: int = 5) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A pump on 16-hour shifts: current and pressure step at every start and stop."""
    rng = np.random.default_rng(seed)
    ts = T0 + np.arange(days * 8640) * 10.0
    on = ((ts // 3600) % 24 >= 6) & ((ts // 3600) % 24 < 22)
    current = np.where(on, 40.0 + rng.normal(0, 0.3, len(ts)), 0.0)
    pressure = np.where(on, 6.0, 0.3) + rng.normal(0, 0.03, len(ts))
    return ts, {"motor_current_a": current, "pressure_bar": pressure}


def _openings(p: DevicePipeline, ts: np.ndarray, cols: dict[str, np.ndarray]) -> list[str]:
    out = []
    for a in range(0, len(ts), 360):
        batch = {m: (ts[a : a + 360], x[a : a + 360]) for m, x in cols.items()}
        out += [f.rule for f in p.judge_many(batch) if f.signal.episodes]
    return out


def test_a_shift_pump_starting_and_stopping_raises_nothing_but_a_spike_while_stopped_does() -> None:
    ts, cols = _shift_pump(20)
    p = DevicePipeline("p1", "pump-motor", reporting_interval_s=10)
    assert [r for r in _openings(p, ts[: 14 * 8640], {k: v[: 14 * 8640] for k, v in cols.items()})
            if not r.startswith("rule:")] == []  # fmt: skip
    later = {k: v[14 * 8640 :].copy() for k, v in cols.items()}
    stopped_at = int(np.flatnonzero((ts[14 * 8640 :] // 3600) % 24 == 2)[100])
    later["pressure_bar"][stopped_at] += 3.0  # a glitch on a stopped pump's pressure gauge
    found = _openings(p, ts[14 * 8640 :], later)
    assert [r for r in found if not r.startswith("rule:")] == ["spike:pressure_bar"]


def test_tail_limit_is_about_1_3_max_for_gaussian_and_higher_for_a_long_tail() -> None:
    rng = np.random.default_rng(6)
    gauss = np.abs(rng.normal(size=50_000))
    assert 1.3 * gauss.max() <= tail_limit(gauss) < 1.5 * gauss.max()
    lognormal = rng.lognormal(0.0, 1.0, 50_000)
    assert tail_limit(lognormal) > 1.5 * lognormal.max()


def test_a_short_rough_patch_is_not_noise_but_a_lasting_one_is() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 1.0, 6000)
    det = SeriesDetector(DetectorConfig(warmup=2000))
    brief = x.copy()
    brief[3000:3008] += rng.normal(0.0, 8.0, 8)
    assert not (det.update(brief).flags & NOISE).any()
    lasting = x.copy()
    lasting[4000:4300] += rng.normal(0.0, 8.0, 300)
    hits = np.flatnonzero(SeriesDetector(DetectorConfig(warmup=2000)).update(lasting).flags & NOISE)
    assert len(hits) and 4000 < hits[0] < 4060


def test_a_jump_on_a_companion_metric_mutes_the_opening() -> None:
    rng = np.random.default_rng(8)
    ts = T0 + np.arange(4000) * 60.0
    strain = 100.0 + rng.normal(0, 2.0, 4000)
    deflection = rng.normal(0, 0.03, 4000)
    strain[3000] += 80.0  # a heavy truck: strains and bends the deck at once
    deflection[3000] -= 0.5
    strain[3500] += 80.0  # a strain gauge glitch alone
    p = DevicePipeline("b1", "bridge-monitor", warmup_s=2000 * 60.0, reporting_interval_s=60)
    found = _openings(p, ts, {"strain_ue": strain, "deflection_mm": deflection})
    spikes = [r for r in found if r.startswith("spike:")]
    assert spikes == ["spike:strain_ue"]


def test_limits_saved_by_an_older_version_are_relearnt() -> None:
    det = SeriesDetector(DetectorConfig(warmup=300))
    det.update(np.random.default_rng(9).normal(0.0, 1.0, 300))
    assert det.limits is not None
    saved = det.limits.to_json()
    fresh = DevicePipeline("d", "bridge-monitor")
    fresh.restore_limits("strain_ue", saved)
    assert fresh.series["strain_ue"].detector.warm
    old = DevicePipeline("d", "bridge-monitor")
    old.restore_limits("strain_ue", {**saved, "version": 1})
    assert "strain_ue" not in old.series or not old.series["strain_ue"].detector.warm


def test_both_regimes_limits_are_saved_and_a_restart_judges_a_stopped_pump_at_once() -> None:
    ts, cols = _shift_pump(16)
    p = DevicePipeline("p1", "pump-motor", reporting_interval_s=10)
    _openings(p, ts[: 14 * 8640], {k: v[: 14 * 8640] for k, v in cols.items()})
    saved = dict(p.unsaved_limits())
    assert {"pressure_bar", "pressure_bar@stopped"} <= set(saved)
    levels = {k: float(str(saved[k]["level"])) for k in ("pressure_bar", "pressure_bar@stopped")}
    assert levels["pressure_bar@stopped"] < 1.0 < levels["pressure_bar"]
    assert p.unsaved_limits() == []  # handed out once
    again = DevicePipeline("p1", "pump-motor", reporting_interval_s=10)
    for key, limits in saved.items():
        again.restore_limits(key, limits)
    idle = again.series["pressure_bar"].idle
    assert idle is not None and idle.limits is not None
    later = {k: v[14 * 8640 :].copy() for k, v in cols.items()}
    stopped_at = int(np.flatnonzero((ts[14 * 8640 :] // 3600) % 24 == 2)[100])
    later["pressure_bar"][stopped_at] += 3.0
    found = _openings(again, ts[14 * 8640 :], later)
    assert "spike:pressure_bar" in found
