"""Whatever a device sends, the validator answers with rows or rejects and never raises."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

from ingest.models import Reason
from ingest.validation import Limits, internal_error, metric_ranges, parse_message
from registry.catalog import SUBSTATION_ROBOT
from registry.models import DeviceInfo

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DEVICES = {"robot-1": DeviceInfo("robot-1", "grid", True, SUBSTATION_ROBOT)}
RANGES = metric_ranges(DEVICES)
ATOMS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**70,
    1.5,
    float("nan"),
    float("inf"),
    "",
    "x",
    "2026-11-26T11:00:00Z",
    1795680000000,
    "battery_pct",
    [],
    {},
]
KEYS = ["ts", "seq", "metrics", "readings", "type", "code", "severity", "attrs", "battery_pct"]


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return rng.choice(ATOMS)
    if roll < 0.75:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _payload(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.1:
        return rng.randbytes(rng.randint(0, 64))
    text = json.dumps(_value(rng, 0))
    if roll < 0.2:  # truncated JSON
        return text[: rng.randint(0, len(text))].encode()
    return text.encode()


def test_random_payloads_never_raise_and_account_for_everything() -> None:
    rng = random.Random(20261126)
    topics = [
        "devices/robot-1/telemetry",
        "devices/robot-1/events",
        "devices/robot-1/status",
        "devices/ghost/telemetry",
        "devices//x",
        "a/b/c/d",
    ]
    for _ in range(5000):
        payload = _payload(rng)
        parsed = parse_message(rng.choice(topics), payload, DEVICES, RANGES, NOW, Limits())
        stored = len(parsed.readings) + len(parsed.events) + (parsed.status is not None)
        assert stored or parsed.rejects, payload
        for row in parsed.readings:
            assert row[1] in RANGES["substation-robot"]


def test_internal_error_becomes_a_reject() -> None:
    reject = internal_error("devices/robot-1/telemetry", b"{}", RuntimeError("boom"))
    assert reject.reason is Reason.INVALID_PAYLOAD and "boom" in reject.detail
