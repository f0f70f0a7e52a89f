"""Message validation: every reject reason, and the good parts of a bad message kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ingest.models import FLAG_OUT_OF_RANGE, Parsed, Reason
from ingest.topics import Channel, DeviceTopic, subscriptions
from ingest.validation import Limits, metric_ranges, parse_message, parse_ts
from registry.catalog import PUMP_MOTOR
from registry.models import DeviceInfo

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DEVICES = {
    "pump-1": DeviceInfo("pump-1", "acme", True, PUMP_MOTOR),
    "pump-off": DeviceInfo("pump-off", "acme", False, PUMP_MOTOR),
}
RANGES = metric_ranges(DEVICES)


def parse(topic: str, payload: object, limits: Limits | None = None) -> Parsed:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_message(topic, raw, DEVICES, RANGES, NOW, limits or Limits())


def reasons(parsed: Parsed) -> dict[Reason, int]:
    return {r.reason: r.count for r in parsed.rejects}


T = "devices/pump-1/telemetry"


def test_single_reading_with_rfc3339_and_epoch_ms() -> None:
    p = parse(T, {"ts": "2026-11-26T19:59:00+08:00", "seq": 7, "metrics": {"flow_m3h": 120.5}})
    assert p.readings == [("pump-1", "flow_m3h", NOW - timedelta(minutes=1), 120.5, 7, 0)]
    ms = int((NOW - timedelta(seconds=30)).timestamp() * 1000)
    q = parse(T, {"ts": ms, "metrics": {"flow_m3h": 1, "pressure_bar": 2.5}})
    assert [r[2] for r in q.readings] == [NOW - timedelta(seconds=30)] * 2
    assert q.rejects == []


def test_batch_keeps_good_readings_and_rejects_each_bad_one() -> None:
    good = {"ts": "2026-11-26T11:59:00Z", "metrics": {"flow_m3h": 1.0}}
    batch = {
        "readings": [
            good,
            {"ts": "2026-11-26T11:59:01Z", "metrics": {"flow_m3h": "high"}},
            {"ts": "2026-11-26T11:59:02Z", "metrics": {"no_such_metric": 1}},
            {"ts": "2026-11-26T12:30:00Z", "metrics": {"flow_m3h": 1}},
            {"ts": "2015-01-01T00:00:00Z", "metrics": {"flow_m3h": 1}},
            {"ts": "2026-11-26T11:59:03", "metrics": {"flow_m3h": 1}},
            {"ts": "2026-11-26T11:59:04Z", "metrics": {}},
            {"ts": "2026-11-26T11:59:05Z", "metrics": {"flow_m3h": 5000}},
            17,
        ]
    }
    p = parse(T, batch)
    assert len(p.readings) == 2
    assert p.readings[1][3] == 5000 and p.readings[1][5] == FLAG_OUT_OF_RANGE
    assert p.flagged == 1
    assert reasons(p) == {
        Reason.INVALID_VALUE: 1,
        Reason.UNKNOWN_METRIC: 1,
        Reason.FUTURE_TIMESTAMP: 1,
        Reason.TOO_OLD: 1,
        Reason.INVALID_TIMESTAMP: 1,
        Reason.INVALID_PAYLOAD: 2,
    }


def test_nan_and_infinity_are_rejected_per_metric() -> None:
    raw = b'{"ts": "2026-11-26T11:59:00Z", "metrics": {"flow_m3h": NaN, "pressure_bar": 3}}'
    p = parse(T, raw)
    assert [r[1] for r in p.readings] == ["pressure_bar"]
    assert reasons(p) == {Reason.INVALID_VALUE: 1}
    q = parse(T, b'{"ts": 1, "metrics": {"flow_m3h": Infinity}}')
    assert Reason.INVALID_VALUE in reasons(q) or Reason.TOO_OLD in reasons(q)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("devices/ghost/telemetry", {"ts": 0, "metrics": {"a": 1}}, Reason.UNKNOWN_DEVICE),
        ("devices/pump-off/telemetry", {"ts": 0, "metrics": {"a": 1}}, Reason.DISABLED_DEVICE),
        ("devices/pump-1/nonsense", {}, Reason.INVALID_TOPIC),
        ("other/pump-1/telemetry", {}, Reason.INVALID_TOPIC),
        (T, b"{not json", Reason.MALFORMED_JSON),
        (T, b"\xff\xfe", Reason.MALFORMED_JSON),
        (T, [1, 2], Reason.INVALID_PAYLOAD),
        (
            T,
            {"ts": "2026-11-26T11:59:00Z", "seq": "x", "metrics": {"flow_m3h": 1}},
            Reason.INVALID_PAYLOAD,
        ),
        (T, {"ts": True, "metrics": {"flow_m3h": 1}}, Reason.INVALID_TIMESTAMP),
        (T, {"ts": "2026-11-26T11:59:00Z", "metrics": {"flow_m3h": True}}, Reason.INVALID_VALUE),
        ("devices/pump-1/events", {"ts": "2026-11-26T11:59:00Z"}, Reason.INVALID_EVENT),
        ("devices/pump-1/events", {"ts": 1, "type": "x", "attrs": []}, Reason.INVALID_EVENT),
        ("devices/pump-1/status", b"sleepy", Reason.INVALID_STATUS),
    ],
)
def test_reject_reasons(topic: str, payload: object, reason: Reason) -> None:
    p = parse(topic, payload)
    assert reason in reasons(p)
    assert p.readings == [] and p.events == []


def test_oversized_and_too_many_readings() -> None:
    big = parse(T, b"x" * 300, Limits(max_payload_bytes=200))
    assert reasons(big) == {Reason.OVERSIZED_PAYLOAD: 1}
    assert big.rejects[0].payload_bytes == 300
    many = {"readings": [{"ts": 0, "metrics": {"flow_m3h": 1}}] * 3}
    assert reasons(parse(T, many, Limits(max_readings=2))) == {Reason.TOO_MANY_READINGS: 1}


def test_events_and_status() -> None:
    ev = {"ts": "2026-11-26T11:00:00Z", "type": "fault_code", "code": "E42", "attrs": {"n": 1}}
    p = parse("devices/pump-1/events", ev)
    assert p.events == [("pump-1", NOW - timedelta(hours=1), "fault_code", "E42", None, '{"n": 1}')]
    assert parse("devices/pump-1/status", b"offline").status == ("pump-1", False)
    assert parse("devices/pump-1/status", b"online").status == ("pump-1", True)


def test_reject_details_are_bounded() -> None:
    batch = {"readings": [{"ts": "bad", "metrics": {"flow_m3h": 1}}] * 50}
    p = parse(T, batch)
    assert p.rejects[0].count == 50
    assert p.rejects[0].detail.count("reading #") == 10


def test_parse_ts_and_topics() -> None:
    assert parse_ts(0) == datetime(1970, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="offset"):
        parse_ts("2026-01-01T00:00:00")
    assert DeviceTopic.parse("devices/r-1/status") == DeviceTopic("r-1", Channel.STATUS)
    with pytest.raises(ValueError):
        DeviceTopic.parse("devices/+/telemetry")
    assert subscriptions("g")[0] == "$share/g/devices/+/telemetry"
    assert subscriptions("")[2] == "devices/+/status"


def test_device_times_in_one_pass() -> None:
    from ingest.writer import device_times

    t0 = NOW - timedelta(minutes=3)
    readings = [("a", "m", t0, 1.0, None, 0), ("a", "m", NOW, 1.0, None, 0)]
    events = [("b", t0 - timedelta(minutes=1), "x", None, None, "{}")]
    newest, span = device_times(readings, events)
    assert newest == {"a": NOW, "b": t0 - timedelta(minutes=1)}
    assert span == (t0 - timedelta(minutes=1), NOW)
    assert device_times([], []) == ({}, None)
