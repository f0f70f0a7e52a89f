"""Fleet domain objects."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fleet.states import CommandState

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def new_command_id() -> str:
    """A fresh command id (URL- and topic-safe)."""
    return "c" + secrets.token_hex(12)


@dataclass(frozen=True, kw_only=True)
class NewCommand:
    """A command an operator asks for."""

    device_id: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None
    timeout_s: int = 300
    max_attempts: int = 5
    id: str = field(default_factory=new_command_id)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"invalid command name {self.name!r}: use a-z 0-9 _")
        if self.timeout_s <= 0 or self.max_attempts <= 0:
            raise ValueError("timeout_s and max_attempts must be positive")
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ValueError("expires_at needs a UTC offset")


@dataclass(frozen=True, kw_only=True)
class Command:
    """A stored command execution."""

    id: str
    seq: int
    tenant_id: str
    device_id: str
    name: str
    params: dict[str, Any]
    state: CommandState
    created_at: datetime
    expires_at: datetime | None
    timeout_s: int
    max_attempts: int
    attempts: int

    @classmethod
    def from_row(cls, row: Any) -> Command:
        """From a fleet_commands row."""
        names = cls.__dataclass_fields__
        values = {k: row[k] for k in names if k != "state"}
        return cls(state=CommandState(row["state"]), **values)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait for a receipt before sending again: base doubling up to cap."""

    base_s: float = 5.0
    cap_s: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.base_s <= self.cap_s:
            raise ValueError("need 0 < base_s <= cap_s")


@dataclass(frozen=True, slots=True)
class Reply:
    """What a device said about a command: a receipt, or a result with its status."""

    command_id: str
    kind: str
    status: CommandState | None = None
    output: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("received", "result"):
            raise ValueError(f"reply kind must be received or result, not {self.kind!r}")
        results = (CommandState.SUCCEEDED, CommandState.FAILED, CommandState.REJECTED)
        if self.kind == "result" and self.status not in results:
            raise ValueError("a result needs status succeeded, failed or rejected")

    @property
    def state(self) -> CommandState:
        """The command state this reply proves."""
        return self.status if self.status is not None else CommandState.DELIVERED


@dataclass(frozen=True, kw_only=True)
class Transfer:
    """How packages reach devices: MQTT chunks, and HTTP download tokens when a secret is set."""

    chunk_bytes: int = 32 * 1024
    download_secret: bytes | None = None
    download_ttl_s: int = 900

    def __post_init__(self) -> None:
        if self.chunk_bytes < 1 or self.download_ttl_s < 1:
            raise ValueError("chunk_bytes and download_ttl_s must be positive")
