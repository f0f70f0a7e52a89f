"""Pydantic I/O of the fleet API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

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
