"""Registry API input and output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas import DeviceId, MetricName, Name, Slug, Text
from registry.rule_schemas import DetectionIn, RegimeIn, RelationIn, RuleIn

_IN = ConfigDict(extra="forbid")


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class TenantPatch(BaseModel):
    """Fields of a tenant that can change."""

    model_config = _IN
    name: Name | None = None
    timezone: str | None = Field(default=None, max_length=64, examples=["Asia/Shanghai"])
    tax_id: Text | None = None
    address: Text | None = None

    _check_zone = field_validator("timezone")(_zone)


class TenantIn(BaseModel):
    """A new tenant (a customer of the service provider)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"id": "acme", "name": "Acme Grid", "timezone": "UTC"}},
    )
    id: Slug
    name: Name
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    tax_id: Text | None = None
    address: Text | None = None

    _check_zone = field_validator("timezone")(_zone)


class TenantOut(BaseModel):
    """A tenant."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "acme",
                "name": "Acme Grid",
                "timezone": "Asia/Shanghai",
                "tax_id": "91310000MA1K",
                "address": "1 Grid Road",
                "created_at": "2026-01-05T08:00:00Z",
            }
        }
    )

    id: str
    name: str
    timezone: str
    tax_id: str | None
    address: str | None
    created_at: datetime


class SitePatch(BaseModel):
    """Fields of a site that can change."""

    model_config = _IN
    name: Name | None = None
    kind: Text | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class SiteIn(SitePatch):
    """A new site; a tenant-scoped key may leave tenant_id out."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"id": "sub-north", "tenant_id": "acme", "name": "North substation"}
        },
    )
    id: Slug
    tenant_id: Slug | None = None
    name: Name


class SiteOut(BaseModel):
    """A site."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "acme-north",
                "tenant_id": "acme",
                "name": "North substation",
                "kind": "substation",
                "latitude": 31.23,
                "longitude": 121.47,
                "created_at": "2026-01-05T08:00:00Z",
            }
        }
    )

    id: str
    tenant_id: str
    name: str
    kind: str | None
    latitude: float | None
    longitude: float | None
    created_at: datetime


class MetricIn(BaseModel):
    """One metric of a device type's catalog."""

    model_config = _IN
    name: MetricName
    unit: Text = ""
    min_value: float | None = Field(default=None, ge=-1e15, le=1e15)
    max_value: float | None = Field(default=None, ge=-1e15, le=1e15)
    description: Text = ""


class DeviceTypeIn(BaseModel):
    """A device type with its metric catalog."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "id": "gas-sensor",
                "name": "SF6 gas density sensor",
                "reporting_interval_s": 60,
                "metrics": [{"name": "density_kgm3", "unit": "kg/m³", "min_value": 0}],
            }
        },
    )
    id: Slug
    name: Name
    # A week: slower reporters are not "monitored" in any useful sense.
    reporting_interval_s: int = Field(ge=1, le=7 * 86400)
    description: Text = ""
    metrics: list[MetricIn] = Field(default_factory=list, max_length=200)
    # silent (presence) and offline (alert) after this many reporting intervals
    offline_after_intervals: float = Field(default=5.0, ge=1, le=1000)
    # catalog rules, operating regime, relations; left out: the type has none of them
    rules: list[RuleIn] = Field(default_factory=list, max_length=100)
    regime: RegimeIn | None = None
    relations: list[RelationIn] = Field(default_factory=list, max_length=20)

    def detection(self) -> DetectionIn:
        """The detection data; ValueError if it names a metric the catalog lacks."""
        det = DetectionIn(rules=self.rules, regime=self.regime, relations=self.relations)
        missing = det.named_metrics() - {m.name for m in self.metrics}
        if missing:
            raise ValueError(f"rules, regime or relations name unknown metrics {sorted(missing)}")
        return det


class DeviceTypeOut(BaseModel):
    """A device type and its catalog."""

    id: str
    name: str
    reporting_interval_s: int
    description: str
    metrics: list[MetricIn]
    offline_after_intervals: float
    rules: list[dict[str, Any]]
    regime: dict[str, Any] | None
    relations: list[dict[str, Any]]


class DevicePatch(BaseModel):
    """Fields of a device that can change."""

    model_config = _IN
    name: Text | None = None
    site_id: Slug | None = None
    enabled: bool | None = None
    serial_number: Text | None = None


class DeviceIn(BaseModel):
    """A new device; its MQTT password is returned once."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "id": "robot-7",
                "device_type_id": "substation-robot",
                "tenant_id": "acme",
                "site_id": "sub-north",
                "name": "Robot 7",
            }
        },
    )
    id: DeviceId
    device_type_id: Slug
    tenant_id: Slug | None = None
    site_id: Slug | None = None
    name: Text = ""
    serial_number: Text | None = None
    enabled: bool = True


class DeviceOut(BaseModel):
    """A device with its connection state."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "robot-7",
                "device_type_id": "substation-robot",
                "tenant_id": "acme",
                "site_id": "acme-north",
                "name": "Robot 7",
                "serial_number": "SR-2026-0007",
                "enabled": True,
                "presence": "online",
                "online": True,
                "status_changed_at": "2026-03-01T07:58:00Z",
                "last_seen_at": "2026-03-01T08:00:10Z",
                "last_reading_ts": "2026-03-01T08:00:10Z",
                "created_at": "2026-01-05T08:00:00Z",
                "updated_at": "2026-01-05T08:00:00Z",
            }
        }
    )

    id: str
    device_type_id: str
    tenant_id: str
    site_id: str | None
    name: str
    serial_number: str | None
    enabled: bool
    presence: Literal["online", "offline", "silent", "never_seen"] = Field(
        description="offline: the device said so (Last Will); silent: nothing for more than "
        "three reporting intervals; never_seen: no message yet"
    )
    online: bool | None = Field(description="presence is online; null = never seen")
    status_changed_at: datetime | None
    last_seen_at: datetime | None
    last_reading_ts: datetime | None
    created_at: datetime
    updated_at: datetime


class Credential(BaseModel):
    """A device's new MQTT credential, shown this one time only."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "device_id": "robot-7",
                "username": "robot-7",
                "password": "q3Zk0c0l5WmS4mH1p8yQ2bN7xA9fR6tE",
            }
        }
    )

    device_id: str
    username: str
    password: str


class DeviceCreated(BaseModel):
    """A new device and its MQTT credential (shown once)."""

    device: DeviceOut
    credential: Credential
