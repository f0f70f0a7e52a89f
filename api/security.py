"""Authentication (Bearer API keys) and role checks as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import service
from api.deps import pool_of
from api.models import ROLES, Principal, Role, check_role
from api.problems import Problem

__all__ = ["ROLES", "Principal", "Role", "authenticate", "require_role"]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


async def authenticate(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
) -> Principal:
    """The caller's principal, or 401 when the key is missing, unknown or revoked."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "Unauthorized", "send an API key as `Authorization: Bearer <key>`")
    principal = await service.authenticate(pool_of(request), credentials.credentials)
    if principal is None:
        raise Problem(401, "Unauthorized", "the API key is unknown or revoked")
    request.state.principal = principal
    return principal


def require_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting the given roles (admin always; none given = any role)."""
    allowed = frozenset(check_role(r) for r in roles or ROLES) | {Role.ADMIN}

    async def dependency(principal: Principal = Depends(authenticate)) -> Principal:  # noqa: B008
        if principal.role not in allowed:
            needs = ", ".join(sorted(allowed))
            raise Problem(403, "Forbidden", f"role {principal.role!r} may not; needs {needs}")
        return principal

    return dependency


def require_provider(principal: Principal) -> None:
    """Refuse (403) actions reserved to provider-wide keys."""
    if not principal.is_provider:
        raise Problem(403, "Forbidden", "only a provider-wide key may do this")
