"""Every fault type shows in the data inside its labelled window, and only there."""

from __future__ import annotations

import numpy as np

from simulators.models import Fault, FaultKind
from tests.unit.test_sim_support import HOUR_MS, START_MS, Series, device, run

K = FaultKind


def at(hours: float) -> int:
    """A time `hours` after the test start."""
    return START_MS + round(hours * HOUR_MS)


def window(series: Series, f: Fault) -> np.ndarray:
    """Mask of the samples inside a fault."""
    return (series.ts >= f.start_ms) & (series.ts < f.end_ms)


BRIDGE = device("bridge-monitor")
SENSOR = [
    Fault(BRIDGE.id, K.SPIKE, ("strain_ue",), at(1), at(1) + 60_000, 300.0),
    Fault(BRIDGE.id, K.STEP, ("deflection_mm",), at(3), at(5), 6.0),
    Fault(BRIDGE.id, K.DRIFT, ("temp_c",), at(6), at(10), 8.0),
    Fault(BRIDGE.id, K.STUCK, ("strain_ue",), at(11), at(13)),
    Fault(BRIDGE.id, K.NOISE, ("vibration_rms_g",), at(14), at(16), 0.02, seed=5),
    Fault(BRIDGE.id, K.COMM_LOSS, (), at(17), at(18)),
    Fault(BRIDGE.id, K.FAULT_CODE, (), at(19), at(19) + 30_000, code="B701"),
]


def test_sensor_faults_only_inside_their_windows() -> None:
    clean, bad = run(BRIDGE, 22), run(BRIDGE, 22, faults=SENSOR)
    assert sorted(bad.labels, key=lambda f: f.start_ms) == SENSOR
    lost = window(clean, SENSOR[5])
    kept = ~lost
    assert np.array_equal(bad.ts, clean.ts[kept])
    for name, values in bad.metrics.items():
        touched = np.zeros(bad.ts.size, dtype=bool)
        for f in SENSOR:
            if name in f.metrics:
                touched |= window(bad, f)
        assert np.array_equal(values[~touched], clean.metrics[name][kept][~touched]), name


def _diff(clean: Series, bad: Series, f: Fault, metric: str) -> np.ndarray:
    a, b = window(clean, f), window(bad, f)
    assert np.array_equal(clean.ts[a], bad.ts[b])
    result: np.ndarray = bad.metrics[metric][b] - clean.metrics[metric][a]
    return result


def test_each_sensor_fault_has_its_signature() -> None:
    clean, bad = run(BRIDGE, 22), run(BRIDGE, 22, faults=SENSOR)
    spike, step, drift, stuck, noise, _, code = SENSOR
    assert np.allclose(_diff(clean, bad, spike, "strain_ue"), 300.0, atol=0.2)
    assert _diff(clean, bad, spike, "strain_ue").size == 2  # 60 s at a 30 s interval
    assert np.allclose(_diff(clean, bad, step, "deflection_mm"), 6.0, atol=0.02)
    ramp = _diff(clean, bad, drift, "temp_c")
    assert ramp[0] < 0.2 and ramp[-1] > 7.5 and np.all(np.diff(ramp) > -0.2)
    held = bad.metrics["strain_ue"][window(bad, stuck)]
    assert held.size > 200 and np.all(held == held[0])
    jitter = _diff(clean, bad, noise, "vibration_rms_g")
    assert 0.01 < jitter.std() < 0.03
    assert [(e.type, e.code, e.ts_ms) for e in bad.events if e.type == "fault_code"] == [
        ("fault_code", "B701", code.start_ms)
    ]


def test_comm_loss_is_silence() -> None:
    bad = run(BRIDGE, 22, faults=SENSOR)
    loss = SENSOR[5]
    assert not window(bad, loss).any()
    gap = np.diff(bad.ts).max()
    assert gap >= loss.end_ms - loss.start_ms
    assert bad.seq[-1] > bad.seq.size - 1  # sequence numbers show the gap


def test_robot_overheating_and_battery_fault() -> None:
    robot = device("substation-robot")
    heat = Fault(robot.id, K.OVERHEAT, ("motor_temp_c",), at(2), at(8), 50.0)
    drain = Fault(robot.id, K.BATTERY, ("battery_pct", "battery_voltage_v"), at(10), at(22), 5.0)
    clean, bad = run(robot, 24), run(robot, 24, faults=[heat, drain])
    before = clean.ts < heat.start_ms
    assert np.array_equal(
        bad.metrics["motor_temp_c"][before], clean.metrics["motor_temp_c"][before]
    )
    assert _diff(clean, bad, heat, "motor_temp_c").max() > 30.0
    assert _diff(clean, bad, drain, "battery_pct").min() < -10.0


def test_pump_bearing_overheating_raises_vibration_too() -> None:
    pump = device("pump-motor")
    heat = Fault(
        pump.id, K.OVERHEAT, ("bearing_temp_c", "vibration_rms_mm_s"), at(30), at(40), 45.0
    )
    clean, bad = run(pump, 48), run(pump, 48, faults=[heat])
    assert _diff(clean, bad, heat, "bearing_temp_c").max() > 25.0
    assert _diff(clean, bad, heat, "vibration_rms_mm_s").max() > 0.5


def test_landslide_accelerates_displacement() -> None:
    slope = device("slope-monitor")
    slide = Fault(slope.id, K.LANDSLIDE, ("gnss_disp_mm",), at(5), at(17), 10.0)
    clean, bad = run(slope, 20), run(slope, 20, faults=[slide])
    moved = _diff(clean, bad, slide, "gnss_disp_mm")
    assert moved[-1] > 20.0
    # Velocity rises through the window: the last third moves more than the first two.
    third = moved.size // 3
    assert moved[-1] - moved[-third] > moved[-third] - moved[0]
    assert _diff(clean, bad, slide, "crack_width_mm").max() > 5.0
