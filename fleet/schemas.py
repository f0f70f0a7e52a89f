"""Pydantic I/O of the fleet API."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from fleet.states import CommandState


class CommandIn(BaseModel):
    """A command to send to a device."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", examples=["set_valve"])
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"open": 40}])
    expires_at: AwareDatetime | None = Field(
        default=None, description="never delivered after this (a stale command never runs late)"
    )
    timeout_s: int = Field(
        default=300, ge=1, le=86_400, description="time to finish once delivered"
    )
    max_attempts: int = Field(default=5, ge=1, le=20, description="sends without receipt")


class FleetEventOut(BaseModel):
    """One audited transition."""

    id: int
    subject: str = Field(description="command, twin, update or campaign")
    subject_id: str
    device_id: str | None
    tenant_id: str | None
    from_state: str | None
    to_state: str
    at: datetime
    actor: str
    detail: dict[str, Any]


class CommandOut(BaseModel):
    """A command execution and where it stands."""

    id: str
    seq: int
    tenant_id: str
    device_id: str
    name: str
    params: dict[str, Any]
    state: CommandState
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    timeout_s: int
    max_attempts: int
    attempts: int
    sent_at: datetime | None
    delivered_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None
    reason: str | None


class CommandDetail(CommandOut):
    """A command with its audit trail."""

    events: list[FleetEventOut]


class CommandPage(BaseModel):
    """A page of commands, newest first; pass next_cursor as `before`."""

    items: list[CommandOut]
    next_cursor: int | None


class TwinOut(BaseModel):
    """A device twin: desired and reported documents with their versions."""

    device_id: str
    desired: dict[str, Any]
    desired_version: int
    reported: dict[str, Any]
    reported_version: int
    delta: dict[str, Any] = Field(description="desired settings not yet reported")
    updated_at: datetime


class TwinPatch(BaseModel):
    """A merge patch of the desired document (null removes a key)."""

    desired: dict[str, Any] = Field(max_length=100, examples=[{"reporting_interval_s": 30}])


class PackageOut(BaseModel):
    """A firmware package (its content is fetched by devices in chunks)."""

    id: str
    device_type_id: str
    version: str
    size: int
    sha256: str
    signature: str = Field(description="base64 Ed25519 signature of the SHA-256 digest")
    from_versions: list[str]
    created_by: str
    created_at: datetime


class CampaignIn(BaseModel):
    """A staged rollout of one package."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str = Field(min_length=1, max_length=200)
    package_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    tenant_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    site_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    from_version: str | None = Field(default=None, max_length=32)
    canary: int = Field(default=1, ge=1, le=100_000)
    waves: list[int] = Field(default=[25, 100], min_length=1, max_length=20)
    success_pct: float = Field(default=95.0, ge=0, le=100)
    abort_failure_pct: float = Field(default=20.0, ge=0, le=100)
    min_finished: int = Field(default=5, ge=1, le=100_000)
    rate_per_min: int = Field(default=60, ge=1, le=100_000)
    require_approval: bool = False
    timeout_s: int = Field(default=1800, ge=10, le=7 * 86_400)
    window_start: time | None = Field(default=None, description="local time in each tenant's zone")
    window_end: time | None = None
    continuous: bool = Field(default=False, description="pick up devices that join later")

    @model_validator(mode="after")
    def _window(self) -> CampaignIn:
        if (self.window_start is None) != (self.window_end is None):
            raise ValueError("give both window_start and window_end, or neither")
        if self.window_start is not None and self.window_start == self.window_end:
            raise ValueError("an empty maintenance window would never start a device")
        return self


class UpdateOut(BaseModel):
    """One device's update in a campaign."""

    device_id: str
    tenant_id: str
    stage: int
    state: str
    progress: float
    from_version: str | None
    reason: str | None
    started_at: datetime | None
    deadline: datetime | None
    updated_at: datetime


class CampaignOut(BaseModel):
    """A campaign, its state and where its devices stand."""

    id: str
    name: str
    package_id: str
    tenant_id: str | None
    site_id: str | None
    from_version: str | None
    state: str
    canary: int
    waves: list[int]
    success_pct: float
    abort_failure_pct: float
    min_finished: int
    rate_per_min: int
    require_approval: bool
    timeout_s: int
    window_start: time | None
    window_end: time | None
    continuous: bool
    stage: int
    reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    counts: dict[str, int] = Field(default_factory=dict)
    updates: list[UpdateOut] = Field(default_factory=list)
