"""Console domain objects: users, sessions and the login throttle's policy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from api.models import Principal, check_role

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
MIN_PASSWORD = 10


def check_username(name: str) -> str:
    """Validate a user name (lower case letters, digits and . _ @ -, 2-64 characters)."""
    if not _USERNAME.match(name):
        raise ValueError(f"user name {name!r}: use 2-64 of a-z 0-9 . _ @ - (lower case)")
    return name


def check_password(password: str) -> str:
    """Validate a new password's length."""
    if not MIN_PASSWORD <= len(password) <= 256:
        raise ValueError(f"a password needs {MIN_PASSWORD}-256 characters")
    return password


class LoginRefused(Exception):
    """Wrong user name or password, a locked or disabled account, or a throttled attempt."""

    def __init__(self, reason: str, wait_s: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.wait_s = reason, wait_s


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A person who logs in to the console; role and tenant scope as an API key's."""

    id: int
    username: str
    display_name: str
    role: str
    tenant_id: str | None
    disabled: bool = False
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        check_role(self.role)
        check_username(self.username)

    @property
    def principal(self) -> Principal:
        """The same principal an API key of this role and tenant would have."""
        return Principal(f"user:{self.username}", check_role(self.role), self.tenant_id)

    @property
    def actor(self) -> str:
        """How the audit trail names this person."""
        return f"user:{self.username}"

    def may(self, *roles: str) -> bool:
        """Whether the user has one of the roles (admin always may)."""
        return self.role == "admin" or self.role in roles


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in session: its user and the form token of this session."""

    user: User
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottlePolicy:
    """Waits after `throttle_after` failures (doubling up to max_wait_s); locks at lock_after."""

    throttle_after: int = 3
    lock_after: int = 5
    lock_s: int = 900
    max_wait_s: int = 30

    def __post_init__(self) -> None:
        if not 1 <= self.throttle_after <= self.lock_after or self.lock_s < 1:
            raise ValueError("throttle_after must be 1..lock_after and lock_s positive")
