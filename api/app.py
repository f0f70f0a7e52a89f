"""The FastAPI application: the /api/v1 routers of every domain, listed by name."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry

import servitize
from analytics.alerts import routes as alerts
from api import health, openapi, problems
from api import routes as keys
from api.middleware import BodyLimit, CountRequests, FinishStreams
from billing import routes as billing
from console import routes as console
from fieldservice import routes as fieldservice
from fleet import routes as fleet
from ingest import routes as telemetry
from registry import routes as registry
from servitize import db, migrate
from servitize.db import Pool
from servitize.settings import Settings, get_settings
from servitize.storage import active_path

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
# Every JSON body this API takes is a small object; 1 MiB leaves ample room and stops a
# client from making the server buffer arbitrary amounts.
MAX_BODY_BYTES = 1024 * 1024
# Every router under /api/v1, by name: the one place a domain's routes are mounted.
ROUTERS: tuple[APIRouter, ...] = (
    keys.router,
    registry.router,
    telemetry.router,
    alerts.router,
    billing.router,
    fleet.router,
    fieldservice.router,
    health.router,
)

DESCRIPTION = """Operator and finance API of Servitize.

Authenticate with `Authorization: Bearer <api key>`. Roles: admin, operator, finance, viewer,
technician, customer.
A tenant-scoped key sees only its own tenant; another tenant's objects answer 404.
Errors are RFC 9457 `application/problem+json` documents."""


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
    # Swagger UI and ReDoc load their scripts from the installed fastapi-offline package
    # (served under /static-offline-docs), not from a CDN: /docs works without internet.
    app = FastAPIOffline(
        title="Servitize API",
        version=servitize.__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(pool, settings),
    )
    app.state.pool, app.state.settings = pool, settings
    app.state.metrics = CollectorRegistry()
    problems.install(app)
    templates: dict[Any, str] = {}
    mounts = [(r, PREFIX) for r in ROUTERS] + [
        (health.metrics_router, ""),
        (console.router, "/console"),
    ]
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
    app.add_middleware(FinishStreams)
    return app
