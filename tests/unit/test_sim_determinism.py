"""Same seed -> same data; values stay in the catalog's ranges at the sensors' resolution."""

from __future__ import annotations

import numpy as np
import pytest

from registry.catalog import builtin_type
from simulators.faults import DEMO
from simulators.fleet import fleet
from simulators.kinds import model_class
from tests.unit.test_sim_support import device, run

TYPES = ["substation-robot", "slope-monitor", "bridge-monitor", "pump-motor"]


@pytest.mark.parametrize("type_id", TYPES)
def test_same_seed_same_data(type_id: str) -> None:
    a = run(device(type_id), 30, profile=DEMO)
    b = run(device(type_id), 30, profile=DEMO)
    assert np.array_equal(a.ts, b.ts)
    for name, values in a.metrics.items():
        assert np.array_equal(values, b.metrics[name], equal_nan=True), name
    assert a.events == b.events
    assert a.labels == b.labels


@pytest.mark.parametrize("type_id", TYPES)
def test_other_seed_other_data(type_id: str) -> None:
    a = run(device(type_id, seed=1), 3)
    b = run(device(type_id, seed=2), 3)
    differs = [not np.array_equal(v, b.metrics[m], equal_nan=True) for m, v in a.metrics.items()]
    assert sum(differs) >= len(differs) // 2


@pytest.mark.parametrize("type_id", TYPES)
def test_normal_values_in_range_and_quantised(type_id: str) -> None:
    series = run(device(type_id), 48)
    catalog = builtin_type(type_id)
    steps = model_class(type_id).steps
    assert set(series.metrics) == {m.name for m in catalog.metrics}
    for spec in catalog.metrics:
        values = series.metrics[spec.name]
        present = values[~np.isnan(values)]
        assert present.size > 0, spec.name
        assert all(spec.in_range(v) for v in present.tolist()), spec.name
        multiples = present / steps[spec.name]
        assert np.allclose(multiples, np.round(multiples), atol=1e-6), spec.name


@pytest.mark.parametrize("type_id", TYPES)
def test_reporting_interval_and_sequence(type_id: str) -> None:
    series = run(device(type_id), 5)
    interval_ms = builtin_type(type_id).reporting_interval_s * 1000
    assert set(np.diff(series.ts).tolist()) == {interval_ms}
    assert series.seq.tolist() == list(range(series.seq.size))


def test_per_device_variation_and_shared_site_weather() -> None:
    slopes = [d for d in fleet("demo").devices if d.site_id == "slope-k12-cutting"]
    a, b = run(slopes[0], 240), run(slopes[1], 240)
    assert slopes[0].site_seed == slopes[1].site_seed
    assert not np.array_equal(a.metrics["gnss_disp_mm"], b.metrics["gnss_disp_mm"])
    # Both stations sit on one slope: their rain gauges see the same storms.
    rain_a, rain_b = a.metrics["rainfall_mm"].sum(), b.metrics["rainfall_mm"].sum()
    assert rain_a > 5.0
    assert rain_a == pytest.approx(rain_b, abs=1.0)
