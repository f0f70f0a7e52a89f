"""Console log-in through a real server: cookies, CSRF, throttling, lock-out, logout,
password change, expiry, and users created by admins."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from servitize.db import Pool
from tests.integration.console_support import (
    PASSWORD,
    console_server,
    csrf_of,
    login,
    page_csrf,
    seed_console,
)


@pytest.fixture
async def url(pool: Pool) -> object:
    await seed_console(pool)
    async with console_server(pool, console_lock_after=4, console_throttle_after=4) as u:
        yield u


async def test_root_and_pages_send_a_stranger_to_the_login_page(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as c:
        assert (await c.get("/")).headers["location"] == "/console/"
        r = await c.get("/console/alerts")
        assert (
            r.status_code == 303 and r.headers["location"] == "/console/login?next=/console/alerts"
        )
        assert (await c.get("/console/static/htmx.min.js")).status_code == 200


async def test_login_sets_a_strict_cookie_and_logout_ends_the_session(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as c:
        r = await login(c, "op.acme")
        assert r.status_code == 303, r.text
        cookie = r.headers["set-cookie"]
        assert "svz_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie
        token = c.cookies["svz_session"]
        assert (await c.get("/console/alerts")).status_code == 200
        csrf = await page_csrf(c)
        assert (await c.post("/console/logout", data={"csrf": csrf})).status_code == 303
    async with httpx.AsyncClient(base_url=url, cookies={"svz_session": token}) as again:
        assert (await again.get("/console/alerts")).status_code == 303


async def test_cookie_is_secure_behind_tls(url: str) -> None:
    tls = {"X-Forwarded-Proto": "https"}
    async with httpx.AsyncClient(base_url=url) as c:
        page = await c.get("/console/login", headers=tls)
        assert "Secure" in page.headers["set-cookie"]
        token = csrf_of(page.text)
        # an http client keeps Secure cookies to itself; a browser on TLS sends it back
        form = {"username": "op.acme", "password": PASSWORD, "csrf": token}
        r = await c.post(
            "/console/login", data=form, headers=tls | {"Cookie": f"svz_login_csrf={token}"}
        )
        assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


async def test_every_form_needs_its_csrf_token(url: str, pool: Pool) -> None:
    alert_id = await pool.fetchval("SELECT id FROM alerts WHERE tenant_id = 'acme'")
    async with httpx.AsyncClient(base_url=url) as c:
        page = await c.get("/console/login")
        bad = {"username": "op.acme", "password": PASSWORD, "csrf": "forged"}
        assert (await c.post("/console/login", data=bad)).status_code == 403
        assert (await login(c, "op.acme")).status_code == 303
        assert page.status_code == 200
        for path in ("/console/logout", f"/console/alerts/{alert_id}/ack", "/console/password"):
            r = await c.post(
                path, data={"csrf": "forged", "old_password": "x", "new_password": "y"}
            )
            assert r.status_code == 403, path
        assert (await c.get("/console/alerts")).status_code == 200  # still logged in
        assert (
            await pool.fetchval("SELECT acknowledged FROM alerts WHERE id = $1", alert_id) is False
        )
        csrf = await page_csrf(c)
        r = await c.post(f"/console/alerts/{alert_id}/ack", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 303
        assert (
            await pool.fetchval("SELECT acknowledged_by FROM alerts WHERE id = $1", alert_id)
            == "user:op.acme"
        )


async def test_failures_lock_the_account_even_for_the_right_password(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as c:
        for _ in range(4):
            assert (await login(c, "op.acme", "wrong password!")).status_code == 401
        r = await login(c, "op.acme")
        assert r.status_code == 429 and ("锁定" in r.text)
        assert (await login(c, "op.globex")).status_code == 303  # others are unaffected


async def test_throttle_makes_the_next_try_wait(pool: Pool) -> None:
    await seed_console(pool)
    knobs = {"console_throttle_after": 2, "console_lock_after": 9}
    async with console_server(pool, **knobs) as url, httpx.AsyncClient(base_url=url) as c:
        for _ in range(2):
            assert (await login(c, "fin.acme", "wrong password!")).status_code == 401
        r = await login(c, "fin.acme")
        assert r.status_code == 429 and "尝试过于频繁" in r.text
        await asyncio.sleep(1.1)
        assert (await login(c, "fin.acme")).status_code == 303


async def test_idle_session_expires(pool: Pool) -> None:
    await seed_console(pool)
    async with (
        console_server(pool, console_session_idle_s=1) as url,
        httpx.AsyncClient(base_url=url) as c,
    ):
        assert (await login(c, "op.acme")).status_code == 303
        assert (await c.get("/console/alerts")).status_code == 200
        await asyncio.sleep(1.5)
        assert (await c.get("/console/alerts")).status_code == 303


async def test_password_change_ends_other_sessions(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as a, httpx.AsyncClient(base_url=url) as b:
        await login(a, "op.acme")
        await login(b, "op.acme")
        form = {
            "csrf": await page_csrf(a),
            "old_password": PASSWORD,
            "new_password": "a new secret 1",
        }
        r = await a.post("/console/password", data=form)
        assert r.status_code == 200 and "密码已修改" in r.text
        assert (await a.get("/console/alerts")).status_code == 200
        assert (await b.get("/console/alerts")).status_code == 303
        form["old_password"] = "not it at all"
        form["csrf"] = await page_csrf(a)
        assert (await a.post("/console/password", data=form)).status_code == 400
    async with httpx.AsyncClient(base_url=url) as c:
        assert (await login(c, "op.acme")).status_code == 401
        assert (await login(c, "op.acme", "a new secret 1")).status_code == 303


async def test_admins_create_users_and_only_admins(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as c:
        await login(c, "op.acme")
        assert (await c.get("/console/users")).status_code == 403
    async with httpx.AsyncClient(base_url=url) as c:
        await login(c, "root")
        form = {"csrf": await page_csrf(c, "/console/users"), "username": "view.acme",
                "password": "viewer secret 1", "role": "viewer", "tenant_id": "acme"}  # fmt: skip
        assert (await c.post("/console/users", data=form)).status_code == 303
        form["csrf"] = await page_csrf(c, "/console/users")
        r = await c.post("/console/users", data=form)
        assert r.status_code == 400 and "exists" in r.text
        assert "view.acme" in (await c.get("/console/users")).text
    async with httpx.AsyncClient(base_url=url) as c:
        assert (await login(c, "view.acme", "viewer secret 1")).status_code == 303
