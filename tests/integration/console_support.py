"""Console test world: a real uvicorn server on the test's pool, users, a logged-in client."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn

from analytics.alerts import service as alerts
from analytics.alerts.models import DeviceRef
from api.app import create_app
from console import service
from servitize.db import Pool
from servitize.infra import free_port
from servitize.settings import Settings
from tests.integration.test_analytics_support import finding
from tests.integration.test_api_support import World, seed

PASSWORD = "correct horse battery"
ACME = DeviceRef("acme-r1", "acme", "acme-site", "substation-robot")
GLOBEX = DeviceRef("globex-r1", "globex", "globex-site", "substation-robot")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@asynccontextmanager
async def console_server(pool: Pool, **knobs: object) -> AsyncIterator[str]:
    """The whole app on a real HTTP server (same event loop, the test's pool)."""
    port = free_port()
    settings = Settings(mqtt_url=None, **knobs)  # type: ignore[arg-type]
    app = create_app(pool, settings)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(srv.serve())
    while not srv.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        await task


async def seed_console(pool: Pool) -> World:
    """Two tenants (API world), an alert each, and users: root (provider admin), one operator
    and one finance user per tenant."""
    world = await seed(pool)
    await alerts.apply_findings(pool, [(ACME, finding()), (GLOBEX, finding())], "detector:0/1")
    await service.create_user(pool, "root", PASSWORD, "admin", None, "Root")
    for t in ("acme", "globex"):
        await service.create_user(pool, f"op.{t}", PASSWORD, "operator", t, f"Op {t}")
        await service.create_user(pool, f"fin.{t}", PASSWORD, "finance", t)
    return world


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def login(
    c: httpx.AsyncClient, username: str, password: str = PASSWORD, **headers: str
) -> httpx.Response:
    """Open the login page (for its CSRF token) and post the form."""
    page = await c.get("/console/login", headers=headers)
    form = {"username": username, "password": password, "csrf": csrf_of(page.text)}
    return await c.post("/console/login", data=form, headers=headers)


async def page_csrf(c: httpx.AsyncClient, path: str = "/console/password") -> str:
    """The session's CSRF token, read from a page's form."""
    page = await c.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
