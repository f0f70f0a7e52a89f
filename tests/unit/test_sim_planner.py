"""Fault planning: rates, warm-up, rain-triggered landslides, labels file round trip."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from simulators.faults import DEFAULT, DEMO, FaultPlanner, applicable, profile
from simulators.fleet import fleet
from simulators.kinds import model_class
from simulators.labels import RunInfo, read_labels, write_labels
from simulators.models import FaultKind
from simulators.weather import storms_of_day
from tests.unit.test_sim_support import HOUR_MS, START_MS

DAY_MS = 24 * HOUR_MS


def plan(profile_name: str, days: int) -> list:  # type: ignore[type-arg]
    planner = FaultPlanner(profile(profile_name), START_MS)
    out = []
    for d in fleet("demo").devices:
        out += planner.window(d, model_class(d.type_id), START_MS, START_MS + days * DAY_MS)
    return out


def test_demo_profile_plans_every_fault_type() -> None:
    kinds = Counter(f.kind for f in plan("demo", 10))
    assert set(kinds) == set(FaultKind)


def test_default_profile_leaves_most_device_days_normal() -> None:
    faults = plan("default", 60)
    assert faults, "a default run of two months has some faults"
    assert all(f.start_ms >= START_MS + 7 * DAY_MS for f in faults)  # a fault-free week first
    faulty_days = {(f.device_id, (f.start_ms - START_MS) // DAY_MS) for f in faults}
    device_days = len(fleet("demo").devices) * 60
    assert len(faulty_days) < 0.2 * device_days


def test_landslides_follow_heavy_rain() -> None:
    slides = [f for f in plan("demo", 30) if f.kind == FaultKind.LANDSLIDE]
    assert slides
    specs = {d.id: d for d in fleet("demo").devices}
    for f in slides:
        day = f.start_ms // DAY_MS
        ends = {
            round(s.end_s) * 1000
            for d in (day - 1, day)
            for s in storms_of_day(specs[f.device_id].site_seed, d)
            if s.heavy
        }
        assert any(abs(f.start_ms - e) <= 1000 for e in ends)


def test_fault_kinds_match_device_kinds() -> None:
    assert FaultKind.LANDSLIDE in applicable(model_class("slope-monitor"))
    assert FaultKind.LANDSLIDE not in applicable(model_class("bridge-monitor"))
    assert FaultKind.BATTERY in applicable(model_class("substation-robot"))
    assert FaultKind.OVERHEAT in applicable(model_class("pump-motor"))


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown fault profile"):
        profile("sometimes")


def test_demo_profile_is_denser_and_shorter_than_default() -> None:
    assert DEMO.rates[FaultKind.STEP] > DEFAULT.rates[FaultKind.STEP]
    assert DEMO.durations_s[FaultKind.STEP][1] < DEFAULT.durations_s[FaultKind.STEP][1]


def test_labels_file_round_trip(tmp_path: Path) -> None:
    faults = plan("demo", 3)
    path = tmp_path / "labels.json"
    write_labels(
        path, RunInfo("demo", 1, "offline", "demo", START_MS, START_MS + 3 * DAY_MS), faults
    )
    back = read_labels(path)
    key = [(f.device_id, f.kind, f.metrics, f.start_ms, f.end_ms, f.code) for f in faults]
    assert sorted(key) == sorted(
        (f.device_id, f.kind, f.metrics, f.start_ms, f.end_ms, f.code) for f in back
    )
