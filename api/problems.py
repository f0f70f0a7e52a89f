"""RFC 9457 problem details (`application/problem+json`) for every error the API returns."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from servitize.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
)

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    """An error answered as a problem document; raise it from routes and services."""

    def __init__(self, status: int, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


class ProblemDoc(BaseModel):
    """The body of an error response (RFC 9457)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "type": "about:blank",
                "title": "Not Found",
                "status": 404,
                "detail": "device robot-9 not found",
                "instance": "/api/v1/devices/robot-9",
            }
        },
    )
    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    instance: str | None = None


def problem_response(
    request: Request, status: int, title: str, detail: str = "", **extra: Any
) -> JSONResponse:
    """A JSONResponse holding a problem document."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body |= {"detail": detail, "instance": request.url.path, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(request, exc.status, exc.title, exc.detail, **exc.extra)


# Checked in this order: an error may be both (billing's invoice-state error is a conflict
# and a billing error).
_DOMAIN = (
    (PreconditionFailed, 412, "Precondition Failed"),
    (Conflict, 409, "Conflict"),
    (Forbidden, 403, "Forbidden"),
    (NotFound, 404, "Not Found"),
    (Invalid, 422, "Unprocessable Content"),
)


async def _on_domain(request: Request, exc: Exception) -> JSONResponse:
    for cls, status, title in _DOMAIN:
        if isinstance(exc, cls):
            return problem_response(request, status, title, str(exc))
    return problem_response(request, 422, "Unprocessable Content", str(exc))


async def _on_value_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DomainError):  # a domain error that is also a ValueError by its bases
        return await _on_domain(request, exc)
    # A value object that validates itself (a plan's price tiers, a billing period) refused
    # a value taken from the request: the client's error, in the object's own words.
    log.info("value refused, answered as 422 on %s: %s", request.url.path, exc)
    return problem_response(request, 422, "Unprocessable Content", str(exc))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route of the app answers at this path (for a 405's Allow header)."""
    routes = request.app.router.routes
    return ", ".join(
        m
        for m in _METHODS
        if any(r.matches({**request.scope, "method": m})[0] is Match.FULL for r in routes)
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    response = problem_response(request, exc.status_code, _title(exc.status_code), detail)
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = allowed_methods(request)
    return response


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg")), "type": e.get("type")}
        for e in exc.errors()
    ]
    bad_json = [e for e in exc.errors() if e.get("type") == "json_invalid"]
    if bad_json:  # the docs promise 400 for a body that does not parse
        why = (bad_json[0].get("ctx") or {}).get("error", "it does not parse")
        return problem_response(request, 400, "Bad Request", f"the body is not valid JSON: {why}")
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    detail = f"{'.'.join(first['loc'])}: {first['msg']}"
    return problem_response(request, 422, "Unprocessable Content", detail, errors=errors)


async def _on_data_error(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL "data exceptions" (class 22: out-of-range numbers and dates, bad text) here
    # almost always come from request values that slipped past validation: a client error,
    # logged so the missing validation gets noticed.
    log.warning("data error answered as 422 on %s: %s", request.url.path, exc)
    detail = f"a value cannot be stored or compared: {str(exc).splitlines()[0]}"
    return problem_response(request, 422, "Unprocessable Content", detail)


async def _on_integrity(request: Request, exc: Exception) -> JSONResponse:
    # A constraint the request broke that no route checked first: a duplicate or an object
    # still referenced is a conflict; a missing reference or a bad value is the client's.
    log.warning("constraint violation answered as a problem on %s: %s", request.url.path, exc)
    detail = getattr(exc, "detail", None) or str(exc).splitlines()[0]
    in_use = isinstance(exc, asyncpg.ForeignKeyViolationError) and request.method == "DELETE"
    if isinstance(exc, asyncpg.UniqueViolationError) or in_use:
        return problem_response(request, 409, "Conflict", detail)
    return problem_response(request, 422, "Unprocessable Content", detail)


async def _on_error(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(request, 500, "Internal Server Error", "an unexpected error occurred")


def install(app: FastAPI) -> None:
    """Register the problem handlers on an app."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(DomainError, _on_domain)
    app.add_exception_handler(ValueError, _on_value_error)
    # Decimal arithmetic on request values (an amount too large to round) is the client's too.
    app.add_exception_handler(ArithmeticError, _on_value_error)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(asyncpg.DataError, _on_data_error)
    app.add_exception_handler(asyncpg.IntegrityConstraintViolationError, _on_integrity)
    app.add_exception_handler(Exception, _on_error)


def _doc(description: str) -> dict[str, Any]:
    content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDoc"}}}
    return {"model": ProblemDoc, "description": description, "content": content}


# Error responses to declare on routes so the OpenAPI document lists them.
Responses = dict[int | str, dict[str, Any]]
AUTH: Responses = {401: _doc("missing, unknown or revoked API key"), 403: _doc("role not allowed")}
NOT_FOUND: Responses = {404: _doc("no such object, or it belongs to another tenant")}
CONFLICT: Responses = {409: _doc("conflicts with the current state")}
INVALID: Responses = {422: _doc("the request does not validate")}
BODY: Responses = {
    400: _doc("the body is not parseable JSON"),
    413: _doc("the body is larger than the limit (1 MiB)"),
}
READ: Responses = AUTH | NOT_FOUND | INVALID
WRITE: Responses = AUTH | NOT_FOUND | CONFLICT | INVALID | BODY
