"""Registry domain objects."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_METRIC = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# One or two lost messages are normal on cellular and Wi-Fi links; five in a row are not.
OFFLINE_AFTER_INTERVALS = 5.0
NO_DETECTION: Mapping[str, Any] = {"rules": [], "regime": None, "relations": []}


def check_id(value: str, what: str = "id") -> str:
    """Validate a tenant/site/type id (lowercase slug)."""
    if not _ID.match(value):
        raise ValueError(f"invalid {what} {value!r}: use 1-63 of a-z 0-9 _ -")
    return value


def check_device_id(value: str) -> str:
    """Validate a device id: it is also an MQTT username and a topic level."""
    if not _DEVICE_ID.match(value):
        raise ValueError(f"invalid device id {value!r}: use 1-64 of A-Z a-z 0-9 _ . -")
    return value


# MQTT usernames kept for Servitize's own services (ingest, ingest-2, servitize-...): a device
# id is its MQTT username, so a device with one of these names would log in as the service.
RESERVED_NAMES = frozenset({"ingest", "detect", "fleet", "api", "admin", "servitize", "mosquitto"})
RESERVED_PREFIXES = ("ingest-", "detect-", "fleet-", "servitize-", "servitize_", "servitize.")


def is_reserved(name: str) -> bool:
    """Whether a name is kept for a service account (compared case-insensitively)."""
    lowered = name.lower()
    return lowered in RESERVED_NAMES or lowered.startswith(RESERVED_PREFIXES)


def check_not_reserved(device_id: str) -> str:
    """Refuse a device id that is (or could become) a service account's MQTT username."""
    if is_reserved(device_id):
        raise ReservedNameError(
            f"device id {device_id!r} is reserved for Servitize service accounts (MQTT "
            f"usernames {', '.join(sorted(RESERVED_NAMES))} and "
            "ingest-*, detect-*, fleet-*, servitize-*)"
        )
    return device_id


class ReservedNameError(ValueError):
    """A device id that belongs to the service accounts."""


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric of a device type's catalog."""

    name: str
    unit: str = ""
    min_value: float | None = None
    max_value: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not _METRIC.match(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")
        lo, hi = self.min_value, self.max_value
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"metric {self.name}: min {lo} > max {hi}")

    def in_range(self, value: float) -> bool:
        """Whether a finite value lies inside the valid range."""
        if self.min_value is not None and value < self.min_value:
            return False
        return not (self.max_value is not None and value > self.max_value)


@dataclass(frozen=True, slots=True)
class DeviceType:
    """A kind of device with its reporting interval and metric catalog."""

    id: str
    name: str
    reporting_interval_s: int
    metrics: tuple[MetricSpec, ...] = ()
    description: str = ""
    # silent (presence) and offline (alert) after this many reporting intervals: one value
    offline_after_intervals: float = OFFLINE_AFTER_INTERVALS
    # catalog rules, operating regime and relations as data ({"rules", "regime",
    # "relations"}; analytics/monitor/catalog.py reads it); empty: none of them
    detection: Mapping[str, Any] = field(default_factory=lambda: dict(NO_DETECTION))

    def __post_init__(self) -> None:
        check_id(self.id, "device type id")
        if self.reporting_interval_s <= 0:
            raise ValueError("reporting interval must be positive")
        if not 1 <= self.offline_after_intervals <= 1000:
            raise ValueError("offline_after_intervals must be in [1, 1000]")

    @property
    def offline_after_s(self) -> float:
        """Seconds of silence after which a device of this type is silent and offline."""
        return self.offline_after_intervals * self.reporting_interval_s

    def metric(self, name: str) -> MetricSpec | None:
        """The catalog entry for a metric name, if any."""
        return next((m for m in self.metrics if m.name == name), None)


@dataclass(frozen=True, slots=True)
class Tenant:
    """A customer of the service provider."""

    id: str
    name: str
    timezone: str = "Asia/Shanghai"
    tax_id: str | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "tenant id")


@dataclass(frozen=True, slots=True)
class Site:
    """A place where a tenant's devices are installed (substation, slope, bridge, plant)."""

    id: str
    tenant_id: str
    name: str
    kind: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "site id")
        for v in (self.latitude, self.longitude):
            if v is not None and not math.isfinite(v):
                raise ValueError("coordinates must be finite")


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device."""

    id: str
    device_type_id: str
    tenant_id: str
    site_id: str | None = None
    name: str = ""
    enabled: bool = True
    serial_number: str | None = None

    def __post_init__(self) -> None:
        check_device_id(self.id)


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What ingest needs to know of a device to validate its messages."""

    id: str
    tenant_id: str
    enabled: bool
    device_type: DeviceType
    extra: dict[str, str] = field(default_factory=dict)
