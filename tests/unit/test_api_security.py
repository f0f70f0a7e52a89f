"""Pure pieces of the API: principals, key format, problem documents, ranges and buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from api import problems
from api.models import Principal, Role
from api.openapi import add_problems
from api.problems import Problem
from api.security import require_role
from api.service import parse_key
from ingest import queries
from ingest.routes import MAX_SPAN, _cursor, _span


def test_provider_principal_sees_every_tenant() -> None:
    provider = Principal("k1", Role.VIEWER, None)
    assert provider.is_provider
    assert provider.can_see("acme") and provider.can_see("globex")
    assert provider.scope("acme") == "acme" and provider.scope(None) is None


def test_tenant_principal_sees_only_its_own() -> None:
    tenant = Principal("k2", Role.OPERATOR, "acme")
    assert tenant.can_see("acme") and not tenant.can_see("globex")
    assert not tenant.can_see(None)
    assert tenant.scope("globex") == "acme"


def test_unknown_roles_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        Principal("k3", "root", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown role"):
        require_role("superuser")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("token", "parsed"),
    [
        ("svz_abc123_" + "x" * 43, ("abc123", "x" * 43)),
        ("svz_abc123_a_b_" + "y" * 30, ("abc123", "a_b_" + "y" * 30)),
        ("svz_abc123_short", None),
        ("sk_abc123_" + "x" * 43, None),
        ("svz__" + "x" * 43, None),
        ("", None),
    ],
)
def test_key_format(token: str, parsed: tuple[str, str] | None) -> None:
    assert parse_key(token) == parsed


class Body(BaseModel):
    n: int


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/conflict")
    async def conflict() -> None:
        raise Problem(409, "Conflict", "already there", hint="pick another id")

    @app.post("/body")
    async def body(b: Body) -> int:
        return b.n

    return app


async def test_problems_are_rfc9457_documents() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        conflict = await c.get("/conflict")
        invalid = await c.post("/body", json={"n": "many"})
        missing = await c.get("/nowhere")
    assert conflict.headers["content-type"] == "application/problem+json"
    assert conflict.json() == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "already there",
        "instance": "/conflict",
        "hint": "pick another id",
    }
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["loc"] == ["body", "n"]
    assert (missing.status_code, missing.json()["title"]) == (404, "Not Found")


def test_bucket_alignment_matches_utc_boundaries() -> None:
    t = datetime(2026, 3, 1, 8, 17, 42, tzinfo=UTC)
    assert queries.align(t, "1m") == datetime(2026, 3, 1, 8, 17, tzinfo=UTC)
    assert queries.align(t, "1h") == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert queries.align(t, "1d", up=True) == datetime(2026, 3, 2, tzinfo=UTC)
    exact = datetime(2026, 3, 1, tzinfo=UTC)
    assert queries.align(exact, "1d", up=True) == exact


def test_ranges_are_bounded_per_resolution() -> None:
    end = datetime(2026, 3, 1, tzinfo=UTC)
    assert _span(None, end, "raw") == (end - timedelta(days=1), end)
    assert _span(end - MAX_SPAN["1h"], end, "1h")[0] == end - timedelta(days=366)
    with pytest.raises(Problem, match="31 days"):
        _span(end - timedelta(days=32), end, "raw")
    with pytest.raises(Problem, match="before"):
        _span(end, end, "1d")


def test_cursor_round_trip_and_rejects_naive_times() -> None:
    moment = datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert _cursor(f"motor_temp_c~{moment.isoformat()}") == ("motor_temp_c", moment)
    assert _cursor(None) is None
    with pytest.raises(Problem):
        _cursor("motor_temp_c~2026-03-01T08:00:00")


async def test_database_data_errors_are_client_errors() -> None:
    app = FastAPI()
    problems.install(app)

    @app.get("/huge")
    async def huge() -> None:
        raise asyncpg.DataError("invalid input for query argument $1: 1e40 (out of int64 range)")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.get("/huge")
    assert response.status_code == 422
    assert "out of int64 range" in response.json()["detail"]


def test_openapi_lists_problem_responses_per_operation() -> None:
    schema = {
        "paths": {
            "/things/{id}": {
                "get": {"security": [{"HTTPBearer": []}], "responses": {"200": {}}},
                "put": {"requestBody": {}, "responses": {"422": {"description": "kept"}}},
            },
            "/open": {"get": {"responses": {}}},
        }
    }
    out = add_problems(schema)
    get = out["paths"]["/things/{id}"]["get"]["responses"]
    put = out["paths"]["/things/{id}"]["put"]["responses"]
    assert set(get) == {"200", "401", "403", "404", "422"}
    assert set(put) == {"400", "404", "409", "413", "422"}
    assert put["422"]["description"] == "kept"
    assert set(out["paths"]["/open"]["get"]["responses"]) == {"422"}
    assert "application/problem+json" in get["404"]["content"]
    assert "ProblemDoc" in out["components"]["schemas"]


@pytest.mark.parametrize(
    ("error", "method", "status"),
    [
        (asyncpg.UniqueViolationError, "POST", 409),
        (asyncpg.ForeignKeyViolationError, "POST", 422),
        (asyncpg.ForeignKeyViolationError, "DELETE", 409),
        (asyncpg.NotNullViolationError, "PATCH", 422),
    ],
)
async def test_unchecked_constraint_violations_are_client_errors(
    error: type[Exception], method: str, status: int
) -> None:
    app = FastAPI()
    problems.install(app)

    @app.api_route("/thing", methods=["POST", "DELETE", "PATCH"])
    async def thing() -> None:
        raise error("violates a constraint")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.request(method, "/thing")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
