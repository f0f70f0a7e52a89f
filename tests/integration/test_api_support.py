"""Shared world for the API tests: two tenants, their sites and devices, a key per role."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import uvicorn

from api import service as keys
from api.app import create_app
from api.models import ROLES
from registry import service
from registry.models import Device, Site, Tenant
from servitize import db
from servitize.db import Pool, transaction
from servitize.infra import free_port
from servitize.settings import Settings
from tests import services

TENANTS = ("acme", "globex")


@dataclass
class World:
    """What the seed created: tokens by (role, tenant or None for provider-wide)."""

    tokens: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def headers(self, role: str = "admin", tenant: str | None = None) -> dict[str, str]:
        """Authorization header of a seeded key."""
        return {"Authorization": f"Bearer {self.tokens[(role, tenant)]}"}


async def seed(pool: Pool) -> World:
    """Two tenants with a site and a robot each, and a key for every role and scope."""
    await service.ensure_builtin_types(pool)
    for t in TENANTS:
        await service.save_tenant(pool, Tenant(t, t.title()), [Site(f"{t}-site", t, "Site")])
        await service.register_devices(
            pool, [Device(f"{t}-r1", "substation-robot", t, f"{t}-site")]
        )
    world = World()
    for role in ROLES:
        for tenant in (None, "acme"):
            world.tokens[(role, tenant)] = (await keys.create_key(pool, role, tenant))[1]
    return world


@asynccontextmanager
async def client(pool: Pool, settings: Settings | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    app = create_app(pool, settings or Settings(mqtt_url=None))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
        yield c


async def add_readings(
    pool: Pool,
    device_id: str,
    metric: str,
    start: datetime,
    values: list[float],
    step_s: int = 10,
    committed_ago_s: int = 0,
) -> None:
    """Insert readings plus their ingest_batches row, following the ingest contract."""
    stamps = [start + timedelta(seconds=i * step_s) for i in range(len(values))]
    async with transaction(pool) as conn:
        await conn.execute(
            """INSERT INTO telemetry (device_id, metric, ts, value, seq, flags)
               SELECT $1, $2, t, v, NULL, CASE WHEN v > 150 THEN 1 ELSE 0 END
               FROM unnest($3::timestamptz[], $4::float8[]) AS u(t, v)""",
            device_id,
            metric,
            stamps,
            values,
        )
        await conn.execute(
            """INSERT INTO ingest_batches (device_ids, min_ts, max_ts, readings, events,
                                           committed_at)
               VALUES ($1, $2, $3, $4, 0, now() - make_interval(secs => $5))""",
            [device_id],
            stamps[0],
            stamps[-1],
            len(values),
            committed_ago_s,
        )


@asynccontextmanager
async def fresh_pool(pg_server: str, template: str) -> AsyncIterator[Pool]:
    """A pool on a new database cloned from the migrated template (for module-wide worlds)."""
    url = await services.create_database(pg_server, template=template)
    pool = await db.create_pool(url, max_size=5)
    try:
        yield pool
    finally:
        await pool.close()
        await services.drop_database(pg_server, url)


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """The app on a real uvicorn server on 127.0.0.1 (its own thread and event loop)."""
    app = create_app(settings=settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
