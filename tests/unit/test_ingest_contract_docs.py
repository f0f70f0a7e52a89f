"""The documented payload examples are what ingest accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.validation import Limits, metric_ranges, parse_message
from registry.catalog import BUILTIN_TYPES
from registry.models import DeviceInfo

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
# Examples are judged at a fixed server time after all of them.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # after every example timestamp


def _device(metrics: set[str]) -> dict[str, DeviceInfo]:
    for dt in BUILTIN_TYPES:
        if metrics <= {m.name for m in dt.metrics}:
            return {"dev-1": DeviceInfo("dev-1", "t", True, dt)}
    raise AssertionError(f"no device type has all of {metrics}")


@pytest.mark.parametrize(
    ("schema", "channel"),
    [("telemetry", "telemetry"), ("event", "events"), ("status", "status")],
)
def test_schema_examples_are_accepted(schema: str, channel: str) -> None:
    doc = json.loads((SCHEMAS / f"{schema}.schema.json").read_text())
    assert doc["examples"]
    for example in doc["examples"]:
        readings = example.get("readings", [example]) if isinstance(example, dict) else []
        names = {n for r in readings for n in r.get("metrics", {})}
        devices = _device(names)
        raw = example.encode() if isinstance(example, str) else json.dumps(example).encode()
        p = parse_message(
            f"devices/dev-1/{channel}", raw, devices, metric_ranges(devices), NOW, Limits()
        )
        assert p.rejects == [], p.rejects
        assert p.readings or p.events or p.status
