"""Route helpers shared by the field-service routers: the caller as an Actor, error mapping."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, TypeVar

from fastapi import Depends, Path

from api.deps import get_pool
from api.problems import Problem
from api.security import Principal, authenticate
from fieldservice import catalog
from fieldservice.models import Actor, Conflict, Forbidden, NotFound
from fieldservice.states import NotAllowed
from servitize.db import Pool

PoolDep = Annotated[Pool, Depends(get_pool)]
WoId = Annotated[int, Path(ge=1, le=2**62)]
T = TypeVar("T")


async def call(action: Awaitable[T]) -> T:
    """Run a service call, turning its errors into problem documents."""
    try:
        return await action
    except NotFound as exc:
        raise Problem(404, "Not Found", str(exc)) from exc
    except (Conflict, NotAllowed) as exc:
        raise Problem(409, "Conflict", str(exc)) from exc
    except Forbidden as exc:
        raise Problem(403, "Forbidden", str(exc)) from exc
    except ValueError as exc:
        raise Problem(422, "Unprocessable Content", str(exc)) from exc


async def acting(pool: PoolDep, who: Annotated[Principal, Depends(authenticate)]) -> Actor:
    """The caller as field service sees it (a technician key must be linked)."""
    try:
        return await catalog.actor_for(pool, who.key_id, who.role, who.tenant_id)
    except NotFound as exc:
        raise Problem(403, "Forbidden", str(exc)) from exc


ActorDep = Annotated[Actor, Depends(acting)]
