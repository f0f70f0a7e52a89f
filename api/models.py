"""API domain objects: roles, the authenticated principal and stored API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """What an API key may do: admin everything, the others their part (docs/api.md)."""

    ADMIN = "admin"
    OPERATOR = "operator"
    FINANCE = "finance"
    VIEWER = "viewer"
    TECHNICIAN = "technician"  # field service: only the work orders assigned to it
    CUSTOMER = "customer"  # a tenant's user: raises requests, follows and signs off


ROLES = tuple(Role)


def check_role(role: str) -> Role:
    """The role of this name, or ValueError naming the valid ones."""
    try:
        return Role(role)
    except ValueError:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key id, its role and its tenant (None = the service provider)."""

    key_id: str
    role: Role
    tenant_id: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", check_role(self.role))

    @property
    def is_provider(self) -> bool:
        """Whether the key belongs to the service provider (sees every tenant)."""
        return self.tenant_id is None

    def can_see(self, tenant_id: str | None) -> bool:
        """Whether objects of this tenant are visible to the caller."""
        return self.tenant_id is None or self.tenant_id == tenant_id

    def scope(self, requested: str | None = None) -> str | None:
        """The tenant filter for a list query: the caller's own tenant wins over a request."""
        return self.tenant_id if self.tenant_id is not None else requested


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored API key (never the secret itself)."""

    id: str
    role: Role
    tenant_id: str | None
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", check_role(self.role))
