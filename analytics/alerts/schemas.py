"""Request and response bodies of the alert API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl

# Request bodies refuse unknown fields (a typo is an error, not a silent default).
_IN = ConfigDict(extra="forbid")


class AlertOut(BaseModel):
    """An alert as operators see it."""

    id: int
    tenant_id: str
    site_id: str | None
    device_id: str
    rule: str
    detector: str
    metric: str | None
    severity: str
    state: str
    active: bool
    acknowledged: bool
    suppressed: bool
    count: int
    first_ts: datetime
    last_ts: datetime
    cleared_ts: datetime | None
    value: float | None
    threshold: float | None
    score: float | None
    sentence: str
    evidence: dict[str, Any]
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    closed_at: datetime | None
    close_reason: str | None


class AlertEventOut(BaseModel):
    """One audit-trail entry."""

    id: int
    alert_id: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class CommentOut(BaseModel):
    """A comment on an alert."""

    id: int
    alert_id: int
    author: str
    body: str
    at: datetime | None = None


class AlertDetail(AlertOut):
    """An alert with its audit trail and comments."""

    events: list[AlertEventOut]
    comments: list[CommentOut]


class AlertPage(BaseModel):
    """A page of alerts; pass next_cursor as `cursor` for the next page."""

    items: list[AlertOut]
    next_cursor: int | None


class CommentIn(BaseModel):
    """A new comment."""

    model_config = _IN

    body: str = Field(min_length=1, max_length=4000)


class ResolveIn(BaseModel):
    """Why an alert is closed by hand."""

    model_config = _IN

    note: str = Field(default="", max_length=4000)


class MaintenanceIn(BaseModel):
    """A maintenance window: the whole tenant, one site or one device."""

    model_config = _IN

    tenant_id: str | None = Field(default=None, description="required for provider-wide keys")
    site_id: str | None = None
    device_id: str | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field(default="", max_length=1000)


class MaintenanceOut(BaseModel):
    """A stored maintenance window."""

    id: int
    tenant_id: str
    site_id: str | None
    device_id: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime


class WebhookIn(BaseModel):
    """A tenant's webhook: signed JSON or a DingTalk robot message."""

    model_config = _IN

    url: HttpUrl
    secret: str = Field(min_length=16, max_length=200)
    format: Literal["json", "dingtalk"] = "json"
    min_severity: Literal["info", "warning", "major", "critical"] = "info"
    enabled: bool = True


class WebhookOut(BaseModel):
    """Webhook settings (the secret masked)."""

    tenant_id: str
    url: str
    secret: str
    format: str
    min_severity: str
    enabled: bool
    updated_at: datetime
