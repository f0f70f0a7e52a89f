"""Route helpers shared by the field-service routers: the caller as an Actor, path ids.

Errors are domain errors (fieldservice.models subclasses servitize.errors), mapped to
problem+json once in api/problems.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from api.deps import PoolDep
from api.problems import Problem
from api.security import Principal, authenticate
from fieldservice import catalog
from fieldservice.models import Actor, NotFound

WoId = Annotated[int, Path(ge=1, le=2**62)]


async def acting(pool: PoolDep, who: Annotated[Principal, Depends(authenticate)]) -> Actor:
    """The caller as field service sees it (a technician key must be linked)."""
    try:
        return await catalog.actor_for(pool, who.key_id, who.role, who.tenant_id)
    except NotFound as exc:
        raise Problem(403, "Forbidden", str(exc)) from exc


ActorDep = Annotated[Actor, Depends(acting)]

__all__ = ["ActorDep", "PoolDep", "WoId"]
