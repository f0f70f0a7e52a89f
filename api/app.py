"""The FastAPI application: /api/v1 routers of every domain that is installed."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

import servitize
from api import health, openapi, problems, routes
from api.middleware import BodyLimit, CountRequests
from console import routes as console
from servitize import db, migrate
from servitize.db import Pool
from servitize.settings import Settings, get_settings
from servitize.storage import active_path

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
# Every JSON body this API takes is a small object; 1 MiB leaves ample room and stops a
# client from making the server buffer arbitrary amounts.
MAX_BODY_BYTES = 1024 * 1024
# Routers of other domains, mounted when their modules are installed.
OPTIONAL_ROUTERS = ("analytics.alerts.routes", "billing.routes", "fleet.routes")

DESCRIPTION = """Operator and finance API of Servitize.

Authenticate with `Authorization: Bearer <api key>`. Roles: admin, operator, finance, viewer.
A tenant-scoped key sees only its own tenant; another tenant's objects answer 404.
Errors are RFC 9457 `application/problem+json` documents."""


def _routers() -> list[APIRouter]:
    from ingest import routes as telemetry
    from registry import routes as registry

    found = [routes.router, registry.router, telemetry.router]
    for name in OPTIONAL_ROUTERS:
        if importlib.util.find_spec(name) is not None:
            found.append(importlib.import_module(name).router)
    return found


def _lifespan(pool: Pool | None, settings: Settings):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = pool is None
        app.state.pool = pool or await db.create_pool(db.database_url(settings), max_size=20)
        try:
            async with app.state.pool.acquire() as conn:
                await migrate.require_migrated(conn)
                log.info("API storage path: %s", (await active_path(conn)).value)
            yield
        finally:
            if own:
                await app.state.pool.close()

    return lifespan


def create_app(pool: Pool | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the app; without a pool it opens one from settings at startup and closes it."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Servitize API",
        version=servitize.__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(pool, settings),
    )
    app.state.pool, app.state.settings = pool, settings
    app.state.metrics = CollectorRegistry()
    problems.install(app)
    templates: dict[Any, str] = {}
    mounts = [(r, PREFIX) for r in [*_routers(), health.router]] + [(health.metrics_router, "")]
    mounts.append((console.router, "/console"))
    for router, prefix in mounts:
        app.include_router(router, prefix=prefix)
        templates |= {
            getattr(r, "endpoint", None): prefix + getattr(r, "path", "") for r in router.routes
        }
    openapi.install(app)
    console.install(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    counter = health.request_counter(app.state.metrics)
    app.add_middleware(CountRequests, counter=counter, templates=templates)
    return app
