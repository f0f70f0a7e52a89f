"""Turn one MQTT message into rows and rejects. Pure: no I/O, nothing a device sends raises."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.models import FLAG_OUT_OF_RANGE, Parsed, Reason, Reject
from ingest.storable import capped_int, finite_number, shown, storable
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
        msg = _Message(info.id, ranges.get(info.device_type.id, {}), now, limits, parsed, rej)
        msg.dispatch(dtopic.channel, payload)
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


class _Message:
    """One message of a known device being validated: where its rows and rejects go."""

    __slots__ = ("device_id", "earliest", "latest", "max_readings", "parsed", "ranges", "rej")

    def __init__(
        self,
        device_id: str,
        ranges: Mapping[str, tuple[float, float]],
        now: datetime,
        limits: Limits,
        parsed: Parsed,
        rej: _Rejects,
    ) -> None:
        self.device_id, self.ranges, self.parsed, self.rej = device_id, ranges, parsed, rej
        self.earliest, self.latest = now - limits.retention, now + limits.max_future
        self.max_readings = limits.max_readings

    def dispatch(self, channel: Channel, payload: bytes) -> None:
        """Route the payload by channel."""
        if channel is Channel.STATUS:
            self.status(payload)
            return
        doc = self.load_json(payload)
        if doc is _INVALID:
            return
        if channel is Channel.EVENTS:
            self.event(doc)
        else:
            self.telemetry(doc)

    def load_json(self, payload: bytes) -> Any:
        """The JSON document, or _INVALID with a reject."""
        try:
            text = payload.decode("utf-8")
            try:
                return json.loads(text)
            except ValueError as exc:
                if "integer string conversion" not in str(exc):
                    raise
                # An integer too long for Python: read it as a note, rejected where it stands.
                return json.loads(text, parse_int=capped_int)
        except (UnicodeDecodeError, ValueError) as exc:
            self.rej.add(Reason.MALFORMED_JSON, f"not UTF-8 JSON: {exc}")
            return _INVALID

    def status(self, payload: bytes) -> None:
        """`online` / `offline` from the retained status topic."""
        text = payload.decode("utf-8", "replace").strip().strip('"').lower()
        if text in ("online", "offline"):
            self.parsed.status = (self.device_id, text == "online")
        else:
            detail = f"status must be online or offline, got {text[:40]!r}"
            self.rej.add(Reason.INVALID_STATUS, detail)

    def checked_ts(self, raw: Any, where: str) -> datetime | None:
        """A device timestamp inside the accepted window, or None with a reject."""
        try:
            ts = parse_ts(raw)
        except (ValueError, OverflowError, OSError) as exc:
            self.rej.add(Reason.INVALID_TIMESTAMP, f"{where}: {exc}")
            return None
        if ts > self.latest:
            self.rej.add(
                Reason.FUTURE_TIMESTAMP, f"{where}: {ts.isoformat()} is ahead of server time"
            )
            return None
        if ts < self.earliest:
            self.rej.add(Reason.TOO_OLD, f"{where}: {ts.isoformat()} is older than retention")
            return None
        return ts

    def telemetry(self, doc: Any) -> None:
        """One reading or a batch of readings."""
        if isinstance(doc, dict) and isinstance(doc.get("readings"), list):
            readings = doc["readings"]
            if not readings:
                self.rej.add(Reason.INVALID_PAYLOAD, "readings is empty")
                return
            if len(readings) > self.max_readings:
                detail = f"{len(readings)} readings > {self.max_readings}"
                self.rej.add(Reason.TOO_MANY_READINGS, detail)
                return
        elif isinstance(doc, dict) and "metrics" in doc:
            readings = [doc]
        else:
            self.rej.add(
                Reason.INVALID_PAYLOAD, 'expected {"ts", "metrics"} or {"readings": [...]}'
            )
            return
        for index, reading in enumerate(readings):
            self.reading(reading, f"reading #{index}")

    def reading(self, reading: Any, where: str) -> None:
        """Validate one reading; good metrics become rows, bad ones rejects."""
        if not isinstance(reading, dict):
            self.rej.add(Reason.INVALID_PAYLOAD, f"{where}: not an object")
            return
        metrics, seq = reading.get("metrics"), reading.get("seq")
        if not isinstance(metrics, dict) or not metrics:
            self.rej.add(Reason.INVALID_PAYLOAD, f"{where}: metrics must be a non-empty object")
            return
        if seq is not None and (type(seq) is not int or not -(2**63) <= seq < 2**63):
            self.rej.add(Reason.INVALID_PAYLOAD, f"{where}: seq must be an integer")
            return
        ts = self.checked_ts(reading.get("ts"), where)
        if ts is not None:
            for name, value in metrics.items():
                self.metric(name, value, ts, seq, where)

    def metric(self, name: str, value: Any, ts: datetime, seq: int | None, where: str) -> None:
        """One metric value: a row (flagged when out of range) or a reject."""
        bounds = self.ranges.get(name)
        if bounds is None:
            self.rej.add(Reason.UNKNOWN_METRIC, f"{where}: {name!r} is not in the catalog"[:200])
        elif not finite_number(value):
            detail = f"{where}: {name} = {shown(value)} is not a finite number"[:200]
            self.rej.add(Reason.INVALID_VALUE, detail)
        else:
            flags = 0 if bounds[0] <= value <= bounds[1] else FLAG_OUT_OF_RANGE
            self.parsed.flagged += flags
            self.parsed.readings.append((self.device_id, name, ts, float(value), seq, flags))

    def event(self, doc: Any) -> None:
        """One device event."""
        if not isinstance(doc, dict):
            self.rej.add(Reason.INVALID_EVENT, "event must be a JSON object")
            return
        etype, code, severity = doc.get("type"), doc.get("code"), doc.get("severity")
        attrs = doc.get("attrs", {})
        if not isinstance(etype, str) or not 0 < len(etype) <= 64:
            self.rej.add(Reason.INVALID_EVENT, "type must be a string of 1-64 characters")
        elif not all(v is None or isinstance(v, str) for v in (code, severity)):
            self.rej.add(Reason.INVALID_EVENT, "code and severity must be strings")
        elif not isinstance(attrs, dict):
            self.rej.add(Reason.INVALID_EVENT, "attrs must be an object")
        elif not storable([etype, code, severity, attrs]):
            detail = "type, code, severity and attrs must not contain \\u0000 or lone surrogates"
            self.rej.add(Reason.INVALID_EVENT, detail)
        else:
            ts = self.checked_ts(doc.get("ts"), "event")
            if ts is not None:
                self.store_event(ts, etype, code, severity, attrs)

    def store_event(
        self, ts: datetime, etype: str, code: str | None, severity: str | None, attrs: Any
    ) -> None:
        """Keep the event, unless its attrs cannot be stored as JSON."""
        try:
            attrs_json = json.dumps(attrs, allow_nan=False)
        except ValueError:
            self.rej.add(Reason.INVALID_EVENT, "attrs must not contain NaN or Infinity")
            return
        self.parsed.events.append((self.device_id, ts, etype, code, severity, attrs_json))
