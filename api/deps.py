"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from fastapi import Request

from servitize.db import Pool
from servitize.settings import Settings, get_settings


def get_pool(request: Request) -> Pool:
    """The application's database pool (set on app.state by the lifespan or the caller)."""
    pool: Pool = request.app.state.pool
    return pool


def get_app_settings(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    return settings or get_settings()
