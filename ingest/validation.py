"""Turn one MQTT message into rows and rejects. Pure: no I/O, nothing a device sends raises."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.models import FLAG_OUT_OF_RANGE, Parsed, Reason, Reject
from ingest.topics import Channel, DeviceTopic
from registry.models import DeviceInfo

# Enough of a bad payload to see what went wrong without storing megabytes of it.
PAYLOAD_PREVIEW_CHARS = 2048
# Per reason and message, name this many offending items; the count covers the rest.
MAX_DETAILS = 10
_EPOCH_MS_MAX = 253402300799999  # 9999-12-31T23:59:59.999Z
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INVALID = object()  # "could not parse"; JSON null is a valid (if useless) document


@dataclass(frozen=True, slots=True)
class Limits:
    """What ingest accepts."""

    max_payload_bytes: int = 256 * 1024
    max_readings: int = 1000
    max_future: timedelta = timedelta(minutes=5)
    retention: timedelta = timedelta(days=365)


Ranges = Mapping[str, Mapping[str, tuple[float, float]]]


def metric_ranges(devices: Mapping[str, DeviceInfo]) -> dict[str, dict[str, tuple[float, float]]]:
    """Per device type: metric name -> (min, max), unbounded ends as ±inf."""
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for info in devices.values():
        dt = info.device_type
        if dt.id not in out:
            out[dt.id] = {
                m.name: (
                    -math.inf if m.min_value is None else m.min_value,
                    math.inf if m.max_value is None else m.max_value,
                )
                for m in dt.metrics
            }
    return out


class _Rejects:
    """Collects rejects of one message, one record per reason."""

    def __init__(self, topic: str, device_id: str | None, payload: bytes) -> None:
        self.topic, self.device_id, self.payload = topic, device_id, payload
        self.found: dict[Reason, list[str]] = {}
        self.counts: dict[Reason, int] = {}

    def add(self, reason: Reason, detail: str) -> None:
        details = self.found.setdefault(reason, [])
        self.counts[reason] = self.counts.get(reason, 0) + 1
        if len(details) < MAX_DETAILS:
            details.append(detail)

    def records(self) -> list[Reject]:
        preview = self.payload[: PAYLOAD_PREVIEW_CHARS * 4].decode("utf-8", "replace")
        return [
            Reject(
                self.device_id,
                self.topic,
                reason,
                "; ".join(details),
                preview[:PAYLOAD_PREVIEW_CHARS],
                len(self.payload),
                self.counts[reason],
            )
            for reason, details in self.found.items()
        ]


def internal_error(topic: str, payload: bytes, exc: Exception) -> Reject:
    """A reject for a message the validator itself failed on."""
    rej = _Rejects(topic, None, payload)
    rej.add(Reason.INVALID_PAYLOAD, f"validator error: {type(exc).__name__}: {exc}"[:300])
    return rej.records()[0]


def parse_message(
    topic: str,
    payload: bytes,
    devices: Mapping[str, DeviceInfo],
    ranges: Ranges,
    now: datetime,
    limits: Limits,
) -> Parsed:
    """Validate a message and split it into readings, events, status and rejects."""
    parsed = Parsed()
    try:
        dtopic = DeviceTopic.parse(topic)
    except ValueError as exc:
        rej = _Rejects(topic, None, payload)
        rej.add(Reason.INVALID_TOPIC, str(exc))
        parsed.rejects = rej.records()
        return parsed
    rej = _Rejects(topic, dtopic.device_id, payload)
    info = _check_device(dtopic, payload, devices, limits, rej)
    if info is not None:
        _dispatch(dtopic, payload, info, ranges, now, limits, parsed, rej)
    parsed.rejects = rej.records()
    return parsed


def _check_device(
    dtopic: DeviceTopic,
    payload: bytes,
    devices: Mapping[str, DeviceInfo],
    limits: Limits,
    rej: _Rejects,
) -> DeviceInfo | None:
    info = devices.get(dtopic.device_id)
    if info is None:
        rej.add(Reason.UNKNOWN_DEVICE, f"device {dtopic.device_id!r} is not registered")
    elif not info.enabled:
        rej.add(Reason.DISABLED_DEVICE, f"device {dtopic.device_id!r} is disabled")
    elif len(payload) > limits.max_payload_bytes:
        rej.add(Reason.OVERSIZED_PAYLOAD, f"{len(payload)} bytes > {limits.max_payload_bytes}")
    else:
        return info
    return None


def _dispatch(
    dtopic: DeviceTopic,
    payload: bytes,
    info: DeviceInfo,
    ranges: Ranges,
    now: datetime,
    limits: Limits,
    parsed: Parsed,
    rej: _Rejects,
) -> None:
    if dtopic.channel is Channel.STATUS:
        _status(dtopic.device_id, payload, parsed, rej)
        return
    doc = _load_json(payload, rej)
    if doc is _INVALID:
        return
    if dtopic.channel is Channel.EVENTS:
        _event(dtopic.device_id, doc, now, limits, parsed, rej)
    else:
        _telemetry(info, doc, ranges.get(info.device_type.id, {}), now, limits, parsed, rej)


def _load_json(payload: bytes, rej: _Rejects) -> Any:
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        rej.add(Reason.MALFORMED_JSON, f"not UTF-8 JSON: {exc}")
        return _INVALID


def _status(device_id: str, payload: bytes, parsed: Parsed, rej: _Rejects) -> None:
    text = payload.decode("utf-8", "replace").strip().strip('"').lower()
    if text in ("online", "offline"):
        parsed.status = (device_id, text == "online")
    else:
        rej.add(Reason.INVALID_STATUS, f"status must be online or offline, got {text[:40]!r}")


def parse_ts(raw: Any) -> datetime:
    """RFC 3339 with an offset, or integer epoch milliseconds, as an aware UTC datetime."""
    if type(raw) is int:
        if not 0 <= raw <= _EPOCH_MS_MAX:
            raise ValueError(f"epoch milliseconds out of range: {raw}")
        return _EPOCH + timedelta(milliseconds=raw)
    if isinstance(raw, str):
        ts = datetime.fromisoformat(raw)
        if ts.tzinfo is None:
            raise ValueError(f"timestamp needs a UTC offset: {raw!r}")
        return ts.astimezone(UTC)
    raise ValueError(f"ts must be an RFC 3339 string or integer epoch ms, got {raw!r}"[:120])


def _checked_ts(
    raw: Any, now: datetime, limits: Limits, where: str, rej: _Rejects
) -> datetime | None:
    try:
        ts = parse_ts(raw)
    except (ValueError, OverflowError, OSError) as exc:
        rej.add(Reason.INVALID_TIMESTAMP, f"{where}: {exc}")
        return None
    if ts > now + limits.max_future:
        rej.add(Reason.FUTURE_TIMESTAMP, f"{where}: {ts.isoformat()} is ahead of server time")
        return None
    if ts < now - limits.retention:
        rej.add(Reason.TOO_OLD, f"{where}: {ts.isoformat()} is older than retention")
        return None
    return ts


def _telemetry(
    info: DeviceInfo,
    doc: Any,
    ranges: Mapping[str, tuple[float, float]],
    now: datetime,
    limits: Limits,
    parsed: Parsed,
    rej: _Rejects,
) -> None:
    if isinstance(doc, dict) and isinstance(doc.get("readings"), list):
        readings = doc["readings"]
        if not readings:
            rej.add(Reason.INVALID_PAYLOAD, "readings is empty")
            return
        if len(readings) > limits.max_readings:
            rej.add(Reason.TOO_MANY_READINGS, f"{len(readings)} readings > {limits.max_readings}")
            return
    elif isinstance(doc, dict) and "metrics" in doc:
        readings = [doc]
    else:
        rej.add(Reason.INVALID_PAYLOAD, 'expected {"ts", "metrics"} or {"readings": [...]}')
        return
    for index, reading in enumerate(readings):
        _reading(info.id, reading, f"reading #{index}", ranges, now, limits, parsed, rej)


def _reading(
    device_id: str,
    reading: Any,
    where: str,
    ranges: Mapping[str, tuple[float, float]],
    now: datetime,
    limits: Limits,
    parsed: Parsed,
    rej: _Rejects,
) -> None:
    if not isinstance(reading, dict):
        rej.add(Reason.INVALID_PAYLOAD, f"{where}: not an object")
        return
    metrics, seq = reading.get("metrics"), reading.get("seq")
    if not isinstance(metrics, dict) or not metrics:
        rej.add(Reason.INVALID_PAYLOAD, f"{where}: metrics must be a non-empty object")
        return
    if seq is not None and (type(seq) is not int or not -(2**63) <= seq < 2**63):
        rej.add(Reason.INVALID_PAYLOAD, f"{where}: seq must be an integer")
        return
    ts = _checked_ts(reading.get("ts"), now, limits, where, rej)
    if ts is None:
        return
    for name, value in metrics.items():
        bounds = ranges.get(name)
        if bounds is None:
            rej.add(Reason.UNKNOWN_METRIC, f"{where}: {name!r} is not in the catalog"[:200])
        elif type(value) not in (int, float) or not math.isfinite(value):
            rej.add(
                Reason.INVALID_VALUE, f"{where}: {name} = {value!r} is not a finite number"[:200]
            )
        else:
            flags = 0 if bounds[0] <= value <= bounds[1] else FLAG_OUT_OF_RANGE
            parsed.flagged += flags
            parsed.readings.append((device_id, name, ts, float(value), seq, flags))


def _event(
    device_id: str, doc: Any, now: datetime, limits: Limits, parsed: Parsed, rej: _Rejects
) -> None:
    if not isinstance(doc, dict):
        rej.add(Reason.INVALID_EVENT, "event must be a JSON object")
        return
    etype, code, severity = doc.get("type"), doc.get("code"), doc.get("severity")
    attrs = doc.get("attrs", {})
    if not isinstance(etype, str) or not 0 < len(etype) <= 64:
        rej.add(Reason.INVALID_EVENT, "type must be a string of 1-64 characters")
    elif not all(v is None or isinstance(v, str) for v in (code, severity)):
        rej.add(Reason.INVALID_EVENT, "code and severity must be strings")
    elif not isinstance(attrs, dict):
        rej.add(Reason.INVALID_EVENT, "attrs must be an object")
    else:
        ts = _checked_ts(doc.get("ts"), now, limits, "event", rej)
        if ts is not None:
            try:
                attrs_json = json.dumps(attrs, allow_nan=False)
            except ValueError:
                rej.add(Reason.INVALID_EVENT, "attrs must not contain NaN or Infinity")
                return
            parsed.events.append((device_id, ts, etype, code, severity, attrs_json))
