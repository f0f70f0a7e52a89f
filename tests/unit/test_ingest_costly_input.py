"""Input that is valid JSON but used to cost a whole message or a whole batch."""

from __future__ import annotations

import json

import pytest

from ingest.models import Reason
from ingest.storable import storable
from tests.unit.test_ingest_validation import NOW, T, parse, reasons

E = "devices/pump-1/events"
TS = "2026-11-26T11:59:00Z"


def test_a_400_digit_integer_rejects_that_value_only() -> None:
    good = [{"ts": f"2026-11-26T11:59:0{i}Z", "metrics": {"flow_m3h": i}} for i in range(3)]
    bad = {"ts": TS, "metrics": {"flow_m3h": "HUGE", "pressure_bar": 2}}
    raw = json.dumps({"readings": [*good, bad]}).replace('"HUGE"', "9" * 400)
    p = parse(T, raw.encode())
    assert sorted((r[1], r[3]) for r in p.readings) == [
        ("flow_m3h", 0.0),
        ("flow_m3h", 1.0),
        ("flow_m3h", 2.0),
        ("pressure_bar", 2.0),
    ]
    assert reasons(p) == {Reason.INVALID_VALUE: 1}
    assert "an integer of 400 digits is not a finite number" in p.rejects[0].detail


def test_an_integer_longer_than_python_reads_rejects_that_value_only() -> None:
    raw = f'{{"ts": "{TS}", "metrics": {{"flow_m3h": {"1" * 5000}, "pressure_bar": 2}}}}'
    p = parse(T, raw.encode())
    assert [(r[1], r[3]) for r in p.readings] == [("pressure_bar", 2.0)]
    assert reasons(p) == {Reason.INVALID_VALUE: 1}
    assert "integer of 5000 digits" in p.rejects[0].detail


def test_large_but_finite_integers_are_kept() -> None:
    p = parse(T, {"ts": TS, "metrics": {"flow_m3h": 10**300, "pressure_bar": -(10**300)}})
    assert sorted(r[3] for r in p.readings) == [-1e300, 1e300]
    assert p.rejects == []


@pytest.mark.parametrize(
    "event",
    [
        {"ts": TS, "type": "fault\u0000code"},
        {"ts": TS, "type": "fault\ud800"},
        {"ts": TS, "type": "fault", "code": "E\u00001"},
        {"ts": TS, "type": "fault", "severity": "\udfff"},
        {"ts": TS, "type": "fault", "attrs": {"note": "a\u0000b"}},
        {"ts": TS, "type": "fault", "attrs": {"k\ud83d": 1}},
        {"ts": TS, "type": "fault", "attrs": {"deep": [{"x": ["\ud800"]}]}},
    ],
)
def test_unstorable_event_strings_are_rejected_with_provenance(event: dict[str, object]) -> None:
    raw = json.dumps(event).encode()  # ensure_ascii: the device sends \\u escapes
    p = parse(E, raw)
    assert p.events == []
    assert reasons(p) == {Reason.INVALID_EVENT: 1}
    reject = p.rejects[0]
    assert (reject.device_id, reject.topic) == ("pump-1", E)
    assert reject.payload == raw.decode() and reject.payload_bytes == len(raw)
    assert "\\u0000 or lone surrogates" in reject.detail


def test_paired_surrogates_and_escaped_backslashes_are_fine() -> None:
    event = {"ts": TS, "type": "fault", "attrs": {"face": "\U0001f600", "lit": "\\u0000"}}
    p = parse(E, json.dumps(event).encode())
    assert p.rejects == [] and len(p.events) == 1
    assert json.loads(p.events[0][5]) == event["attrs"]
    assert p.events[0][1] < NOW


def test_storable() -> None:
    assert storable({"a": ["b", 1, None, {"c": "d"}]})
    assert not storable({"a": ["b", {"c": "\x00"}]})
    assert not storable({"\ud800": 1})
