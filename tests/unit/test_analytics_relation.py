"""Cross-metric relations: a sensor fault hidden among the loads stands out of the residual."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.detectors.relation import Relation, RelationDetector, align
from analytics.detectors.univariate import DRIFT, SPIKE, DetectorConfig, SeriesDetector
from analytics.monitor.pipeline import DevicePipeline

STEP = 60.0
DAY = 86400.0
REL = Relation("strain_ue", ("deflection_mm", "temp_c"))
CONFIG = DetectorConfig(warmup=7 * 1440)


def _bridge(days: float = 14.0, seed: int = 1) -> dict[str, np.ndarray]:
    """Minute readings of a span: trucks strain and bend it at once, the sun warms it daily."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, days * DAY, STEP)
    temp = 15.0 + 8.0 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1.0, len(t)).cumsum() * 0.02
    trucks = rng.random(len(t)) < 0.15
    load = np.where(trucks, rng.lognormal(np.log(20.0), 0.35, len(t)), 0.0)
    return {
        "t": t,
        "strain_ue": 50.0 + 9.0 * (temp - 15.0) + 4.0 * load + rng.normal(0, 2.0, len(t)),
        "deflection_mm": -0.35 * load + 0.05 * (temp - 15.0) + rng.normal(0, 0.03, len(t)),
        "temp_c": temp + rng.normal(0, 0.1, len(t)),
    }


def _batches(
    cols: dict[str, np.ndarray], hours: float = 1.0
) -> list[dict[str, tuple[np.ndarray, np.ndarray]]]:
    t = cols["t"]
    size = int(hours * 3600 / STEP)
    metrics = [m for m in cols if m != "t"]
    return [
        {m: (t[a : a + size], cols[m][a : a + size]) for m in metrics}
        for a in range(0, len(t), size)
    ]


def _flags(det: RelationDetector, cols: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    ts, flags = [], []
    for batch in _batches(cols):
        v = det.update(batch)
        if v is not None:
            ts.append(v.ts)
            flags.append(v.verdict.flags)
    return np.concatenate(ts), np.concatenate(flags)


def test_relation_checks_itself() -> None:
    with pytest.raises(ValueError, match="inputs"):
        Relation("a", ("a", "b"))
    with pytest.raises(ValueError, match="inputs"):
        Relation("a", ())
    with pytest.raises(ValueError, match="degree"):
        Relation("a", ("b",), degree=4)
    assert REL.key == "strain_ue~deflection_mm+temp_c"


def test_align_keeps_rows_every_metric_read_at_the_same_time() -> None:
    batch = {
        "y": (np.array([3.0, 1.0, 2.0, 4.0]), np.array([30.0, 10.0, 20.0, np.nan])),
        "x": (np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 4.0])),
    }
    found = align(batch, ("y", "x"))
    assert found is not None
    ts, rows = found
    assert ts.tolist() == [1.0, 2.0]
    assert rows.tolist() == [[10.0, 1.0], [20.0, 2.0]]
    assert align(batch, ("y", "z")) is None


def test_traffic_and_weather_raise_nothing() -> None:
    det = RelationDetector(REL, CONFIG)
    ts, flags = _flags(det, _bridge())
    assert det.fitted
    assert len(ts) == 7 * 1440  # the second week is judged, the first taught
    assert not flags.any()


def test_a_gauge_spike_among_trucks_is_found_by_the_relation_only() -> None:
    cols = _bridge()
    at = 10 * 1440 + 500
    cols["strain_ue"][at] += 90.0  # no bigger than a heavy truck's strain
    det = RelationDetector(REL, CONFIG)
    ts, flags = _flags(det, cols)
    hits = ts[(flags & SPIKE) > 0]
    assert hits.tolist() == [cols["t"][at]]
    alone = SeriesDetector(CONFIG).update(cols["strain_ue"], cols["t"])
    assert not (alone.flags[at] & SPIKE), "the strain series alone hides it among trucks"


def test_a_slow_gauge_drift_is_found_within_a_day() -> None:
    cols = _bridge()
    start = 9 * 1440
    ramp = np.clip((np.arange(len(cols["t"])) - start) / (2 * 1440), 0.0, 1.0)
    cols["strain_ue"] += 100.0 * ramp  # 100 µε over two days, under the daily thermal swing
    det = RelationDetector(REL, CONFIG)
    ts, flags = _flags(det, cols)
    drift = ts[(flags & DRIFT) > 0]
    assert len(drift)
    assert drift[0] - cols["t"][start] < DAY
    assert not ((flags & DRIFT) > 0)[ts < cols["t"][start]].any()


def test_rows_of_a_stopped_machine_are_not_judged() -> None:
    rel = Relation("current_a", ("flow_m3h",), degree=2)
    det = RelationDetector(rel, DetectorConfig(warmup=200))
    rng = np.random.default_rng(3)
    t = np.arange(600.0)
    flow = np.where((t // 100) % 2 == 0, 200.0 + rng.normal(0, 10.0, 600), 0.0)
    current = np.where(flow > 0, 20.0 + 0.3 * flow - 4e-4 * flow**2, 0.0)
    current += np.where(flow > 0, rng.normal(0, 0.3, 600), 0.0)
    v = det.update({"current_a": (t, current), "flow_m3h": (t, flow)})
    assert v is not None
    assert (flow[np.isin(t, v.ts)] > 0).all()
    assert len(v.ts) == int((flow > 0).sum()) - 200
    assert not v.verdict.flags.any()


def test_saved_fit_resumes_with_the_same_predictions() -> None:
    cols = _bridge(days=8.0)
    det = RelationDetector(REL, CONFIG)
    _flags(det, cols)
    state = det.to_json()
    assert state is not None
    again = RelationDetector(REL, CONFIG)
    assert again.restore(state)
    rows = np.column_stack([cols["deflection_mm"][:50], cols["temp_c"][:50]])
    assert np.allclose(again.predict(rows), det.predict(rows))
    assert not RelationDetector(REL, CONFIG).restore({**state, "relation_version": 0})
    quadratic = Relation("strain_ue", ("deflection_mm", "temp_c"), degree=2)
    assert not RelationDetector(quadratic, CONFIG).restore(state)  # another form: relearnt


def test_pipeline_names_the_relation_and_says_what_was_predicted() -> None:
    cols = _bridge()
    at = 10 * 1440 + 500
    cols["strain_ue"][at] += 90.0
    pipe = DevicePipeline("brg-1", "bridge-monitor", {"strain_ue": "µε"}, reporting_interval_s=60)
    found = [f for batch in _batches(cols) for f in pipe.judge_many(batch)]
    rel = [f for f in found if f.rule == "spike:strain_ue~deflection_mm+temp_c"]
    assert len(rel) == 1
    assert rel[0].signal.first_ts == cols["t"][at]
    assert "above what deflection_mm and temp_c predict" in rel[0].sentence
    assert rel[0].evidence["predicted"] < rel[0].evidence["value"] - 60.0
    saved = dict(pipe.unsaved_limits())
    assert "strain_ue~deflection_mm+temp_c" in saved
