"""Request-scoped dependencies shared by every router.

They are `async def` on purpose: FastAPI runs plain `def` dependencies in a thread pool, a
thread hop per request for what is an attribute lookup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from servitize.db import Pool
from servitize.settings import Settings, get_settings


def pool_of(request: Request) -> Pool:
    """The application's database pool (set on app.state by the lifespan or the caller)."""
    pool: Pool = request.app.state.pool
    return pool


async def get_pool(request: Request) -> Pool:
    """Dependency: the application's database pool."""
    return pool_of(request)


async def get_app_settings(request: Request) -> Settings:
    """Dependency: the application's settings."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    return settings or get_settings()


# The one pool parameter every route takes: `pool: PoolDep`.
PoolDep = Annotated[Pool, Depends(get_pool)]
