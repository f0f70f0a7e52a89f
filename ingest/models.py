"""Ingest domain objects: what a message turns into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# flags bit: value outside the metric's valid range (stored, but left out of rollups)
FLAG_OUT_OF_RANGE = 1


class Reason(StrEnum):
    """Why something a device sent was not stored."""

    INVALID_TOPIC = "invalid_topic"
    UNKNOWN_DEVICE = "unknown_device"
    DISABLED_DEVICE = "disabled_device"
    OVERSIZED_PAYLOAD = "oversized_payload"
    MALFORMED_JSON = "malformed_json"
    INVALID_PAYLOAD = "invalid_payload"
    TOO_MANY_READINGS = "too_many_readings"
    INVALID_TIMESTAMP = "invalid_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOO_OLD = "too_old"
    UNKNOWN_METRIC = "unknown_metric"
    INVALID_VALUE = "invalid_value"
    INVALID_EVENT = "invalid_event"
    INVALID_STATUS = "invalid_status"
    STORAGE_ERROR = "storage_error"


# Row tuples match the column order of the bulk insert.
ReadingRow = tuple[str, str, datetime, float, int | None, int]
EventRow = tuple[str, datetime, str, str | None, str | None, str]


@dataclass(frozen=True, slots=True)
class Reject:
    """One rejected part of a message, with its reason."""

    device_id: str | None
    topic: str
    reason: Reason
    detail: str
    payload: str
    payload_bytes: int
    count: int = 1


@dataclass(slots=True)
class Parsed:
    """Everything one MQTT message turned into."""

    readings: list[ReadingRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    status: tuple[str, bool] | None = None
    flagged: int = 0
