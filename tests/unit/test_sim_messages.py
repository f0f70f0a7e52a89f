"""Messages follow the MQTT contract; fleets and the real-time timeline behave."""

from __future__ import annotations

import json
import math

import pytest

from registry.models import check_device_id
from simulators.faults import NONE, FaultPlanner
from simulators.fleet import fleet
from simulators.messages import MAX_PAYLOAD_BYTES, batch_payloads, chunk_messages, first_batch
from simulators.realtime import Timeline
from simulators.stream import DeviceStream
from tests.unit.test_sim_support import START_MS, device


def _reading(i: int, width: int = 10) -> dict[str, object]:
    return {
        "ts": 1_780_000_000_000 + i,
        "seq": i,
        "metrics": {f"m{j}": j + 0.5 for j in range(width)},
    }


def test_batches_respect_count_and_size_limits() -> None:
    readings = [_reading(i, width=40) for i in range(2500)]
    payloads = batch_payloads(readings)
    counts = [len(json.loads(p)["readings"]) for p in payloads]
    assert sum(counts) == 2500
    assert max(counts) <= 1000
    assert all(len(p) <= MAX_PAYLOAD_BYTES for p in payloads)
    head, n = first_batch(readings)
    assert len(json.loads(head)["readings"]) == n and len(head) <= MAX_PAYLOAD_BYTES


def test_chunk_messages_match_the_contract() -> None:
    spec = device("substation-robot")
    stream = DeviceStream(spec, START_MS, FaultPlanner(NONE, START_MS))
    chunks = [stream.next_chunk() for _ in range(4)]
    messages = [m for c in chunks for m in chunk_messages(c)]
    telemetry = [m for m in messages if m.topic == f"devices/{spec.id}/telemetry"]
    events = [m for m in messages if m.topic == f"devices/{spec.id}/events"]
    readings = [r for m in telemetry for r in json.loads(m.payload)["readings"]]
    assert len(readings) == sum(len(c) for c in chunks)
    for r in readings:
        assert isinstance(r["ts"], int) and isinstance(r["seq"], int)
        assert all(isinstance(v, float) and math.isfinite(v) for v in r["metrics"].values())
    # The IR camera reports only while the robot stands at a checkpoint.
    with_ir = [r for r in readings if "ir_max_temp_c" in r["metrics"]]
    assert 0 < len(with_ir) < len(readings)
    assert all(r["metrics"]["speed_mps"] == 0 for r in with_ir)
    for m in events:
        body = json.loads(m.payload)
        assert body["type"] == "inspection_completed" and body["attrs"]["checkpoints_total"] > 0


def test_demo_fleet_shape() -> None:
    demo = fleet("demo")
    assert len(demo.tenants) == 3 and 15 <= len(demo.devices) <= 40
    assert {d.type_id for d in demo.devices} == {
        "substation-robot", "slope-monitor", "bridge-monitor", "pump-motor"
    }  # fmt: skip
    assert len({d.id for d in demo.devices}) == len(demo.devices)
    assert len({d.seed for d in demo.devices}) == len(demo.devices)
    for d in demo.devices:
        check_device_id(d.id)
    assert fleet("demo", 1).devices == demo.devices
    assert fleet("demo", 2).devices[0].seed != demo.devices[0].seed


def test_scale_fleet_and_bad_names() -> None:
    big = fleet("scale:1000")
    assert len(big.devices) == 1000 and len({s.id for s in big.sites}) == 40
    assert {r.tenant_id for r in big.registry_devices()} <= {t.id for t in big.tenants}
    with pytest.raises(ValueError, match="unknown fleet"):
        fleet("huge")
    with pytest.raises(ValueError, match="scale"):
        fleet("scale:lots")


def test_timeline_maps_model_time_to_wall_time() -> None:
    t = Timeline(model_start_ms=1_000_000, wall_start_ms=5_000_000, speedup=60)
    assert t.wall_ms(1_000_000) == 5_000_000
    assert t.wall_ms(1_000_000 + 3_600_000) == 5_000_000 + 60_000
    with pytest.raises(ValueError):
        Timeline(0, 0, 0)
