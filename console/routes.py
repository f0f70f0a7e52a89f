"""Console routes: log in and out, password change, users (admins), language; the pages are
in console/page_routes.py and join this router. Mounted under /console by the API app."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.deps import pool_of
from api.models import ROLES
from console import page_routes, security, service, web
from console.models import LoginRefused
from console.web import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Current,
    Refused,
    render,
    require,
    set_cookie,
    settings_of,
)  # fmt: skip

router = APIRouter(include_in_schema=False)
static = StaticFiles(packages=[("console", "static")])
Text = Annotated[str, Form()]


def _safe_next(target: str | None) -> str:
    """Only a path inside the console (no open redirect)."""
    if target and target.startswith("/console/") and "//" not in target and "\\" not in target:
        return target
    return "/console/"


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> Response:
    """The login form, with a fresh double-submit CSRF token (there is no session yet)."""
    token = security.new_token()
    page = render(request, "login.html", csrf=token, next=_safe_next(next), error=None)
    set_cookie(request, page, LOGIN_CSRF_COOKIE, token, 3600)
    return page


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request, username: Text, password: Text, csrf: Text, next: Text = "/console/"
) -> Response:
    """Check the password (throttled, locking) and open a session."""
    if not security.same_token(request.cookies.get(LOGIN_CSRF_COOKIE), csrf):
        raise Refused(403, "csrf")
    s = settings_of(request)
    try:
        user = await service.login(
            pool_of(request), username.strip().lower(), password, service.policy_of(s)
        )
    except LoginRefused as exc:
        status = 401 if exc.reason == "bad_credentials" else 429
        page = render(
            request, "login.html", status=status, csrf=csrf, next=_safe_next(next),
            error=exc.reason, wait=exc.wait_s, username=username,
        )  # fmt: skip
        return page
    token, _ = await service.open_session(pool_of(request), user, s.console_session_max_s)
    done = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(request, done, SESSION_COOKIE, token, s.console_session_max_s)
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return done


@router.post("/logout")
async def logout(request: Request, session: Current) -> Response:
    """End the session (its row goes; the cookie is cleared)."""
    await service.close_session(pool_of(request), request.cookies[SESSION_COOKIE])
    done = RedirectResponse("/console/login", status_code=303)
    done.delete_cookie(SESSION_COOKIE, path="/console")
    return done


@router.get("/password", response_class=HTMLResponse)
async def password_page(request: Request, session: Current) -> Response:
    return render(request, "password.html", error=None, done=False)


@router.post("/password", response_class=HTMLResponse)
async def change_password(
    request: Request, session: Current, old_password: Text, new_password: Text
) -> Response:
    """Change one's own password; the other sessions of the user end."""
    try:
        await service.change_password(
            pool_of(request), session.user, old_password, new_password,
            request.cookies[SESSION_COOKIE],
        )  # fmt: skip
    except LoginRefused:
        return render(request, "password.html", status=400, error="bad_credentials", done=False)
    except ValueError as exc:
        return render(request, "password.html", status=400, error=str(exc), done=False)
    return render(request, "password.html", error=None, done=True)


@router.get("/users", response_class=HTMLResponse)
async def users(request: Request, session: Current) -> Response:
    """Users of the admin's scope (a tenant admin sees its tenant's users)."""
    require(session, "admin")
    rows = await service.list_users(pool_of(request), session.user.tenant_id)
    return render(request, "users.html", rows=rows, roles=ROLES, error=None)


@router.post("/users", response_class=HTMLResponse)
async def create_user(
    request: Request, session: Current, username: Text, password: Text, role: Text,
    tenant_id: Text = "", display_name: Text = "",
) -> Response:  # fmt: skip
    """Create a user; a tenant admin creates users of its own tenant only."""
    require(session, "admin")
    tenant = session.user.tenant_id or (tenant_id.strip() or None)
    pool = pool_of(request)
    try:
        await service.create_user(pool, username.strip(), password, role, tenant, display_name)
    except ValueError as exc:
        rows = await service.list_users(pool, session.user.tenant_id)
        return render(request, "users.html", status=400, rows=rows, roles=ROLES, error=str(exc))
    return RedirectResponse("/console/users", status_code=303)


@router.get("/lang/{lang}")
async def set_lang(request: Request, lang: str, next: str | None = None) -> Response:
    """Switch the language (a cookie; zh-CN is the default)."""
    done = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(request, done, LANG_COOKIE, "en" if lang == "en" else "zh-CN", 365 * 86400)
    return done


router.include_router(page_routes.router)


def install(app: FastAPI) -> None:
    """Static files, `/` to the console, and the console's error pages (router: by the app)."""
    app.mount("/console/static", static, name="console-static")
    web.install(app)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)
