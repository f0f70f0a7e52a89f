"""Web glue of the console: templates, the session and CSRF dependencies, cookies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import pool_of
from console import i18n, security, service
from console.models import Session
from servitize.settings import Settings, get_settings

HERE = Path(__file__).parent
SESSION_COOKIE = "svz_session"
LANG_COOKIE = "svz_lang"
LOGIN_CSRF_COOKIE = "svz_login_csrf"
CSRF_HEADER = "x-csrf-token"
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["local"] = i18n.local


class LoginRequired(Exception):
    """No live session: send the browser to the login page."""


class Refused(Exception):
    """The user may not do this (403), or the object is not theirs (404)."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status, self.key = status, key


def settings_of(request: Request) -> Settings:
    found: Settings | None = getattr(request.app.state, "settings", None)
    return found or get_settings()


def lang_of(request: Request) -> str:
    return i18n.pick(request.cookies.get(LANG_COOKIE))


def secure(request: Request) -> bool:
    """Whether cookies get the Secure flag: the setting, else whether the request is https."""
    chosen = settings_of(request).console_secure_cookies
    if chosen is not None:
        return chosen
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/console", httponly=True, samesite="lax",
        secure=secure(request),
    )  # fmt: skip


async def current(request: Request) -> Session:
    """The request's live session (LoginRequired otherwise); POSTs must carry its CSRF token."""
    s = settings_of(request)
    found = await service.session(
        pool_of(request), request.cookies.get(SESSION_COOKIE), s.console_session_idle_s
    )
    if found is None:
        raise LoginRequired()
    if request.method not in ("GET", "HEAD"):
        given = request.headers.get(CSRF_HEADER)
        if given is None:
            given = str((await request.form()).get("csrf") or "")
        if not security.same_token(found.csrf_token, given):
            raise Refused(403, "csrf")
    request.state.session = found
    return found


Current = Annotated[Session, Depends(current)]


def require(session: Session, *roles: str) -> None:
    """Refuse (403) a user without one of the roles (admin always may)."""
    if not session.user.may(*roles):
        raise Refused(403, "forbidden")


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """A page in the request's language, with the session's user and form token."""
    lang = lang_of(request)
    session: Session | None = getattr(request.state, "session", None)
    ctx |= {
        "lang": lang, "session": session, "user": session.user if session else None,
        "csrf": session.csrf_token if session else ctx.get("csrf", ""),
        "t": lambda key, **v: i18n.word(key, lang, **v), "status_code": status,
    }  # fmt: skip
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def install(app: Any) -> None:
    """Exception handlers: to the login page without a session, a page for refusals."""

    async def to_login(request: Request, exc: Exception) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/console/login"})
        target = request.url.path if request.method == "GET" else "/console/"
        return RedirectResponse(f"/console/login?next={target}", status_code=303)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return render(request, "error.html", status=exc.status, key=exc.key)

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(Refused, refused)
