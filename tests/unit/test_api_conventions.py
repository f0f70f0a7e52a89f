"""API conventions without a database: one error mapping, 400 for bad JSON, Allow on 405,
roles as an enum, and wiring that names every router and subcommand (no discovery)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from analytics.alerts.models import Conflict as AlertConflict
from analytics.alerts.models import NotFound as AlertNotFound
from api import problems
from api.app import ROUTERS, create_app
from api.models import ROLES, Principal, Role
from billing.errors import BillingError, InvoiceStateError
from billing.errors import NotFound as BillingNotFound
from servitize import cli
from servitize.errors import Conflict, Invalid, NotFound
from servitize.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


class Thing(BaseModel):
    name: str


def _app(error: Exception | None = None) -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/thing")
    async def read() -> None:
        if error is not None:
            raise error

    @app.patch("/thing")
    async def change(body: Thing) -> None:
        return None

    return app


async def _call(app: FastAPI, method: str, path: str, **kw: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await c.request(method, path, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("device d1 not found"), 404),
        (Conflict("site s1 already exists"), 409),
        (Invalid("a window must end after it starts"), 422),
        (AlertNotFound("alert 7 not found"), 404),
        (AlertConflict("alert 7 is closed"), 409),
        (BillingNotFound("invoice 9 not found"), 404),
        (InvoiceStateError("invoice 9 is already final"), 409),
        (BillingError("a plan needs at least one price tier"), 422),
        (ValueError("invalid period 2026-13"), 422),
    ],
)
async def test_every_domain_error_maps_to_one_problem(error: Exception, status: int) -> None:
    response = await _call(_app(error), "GET", "/thing")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["detail"] == str(error)


async def test_malformed_json_is_400_and_a_bad_field_422() -> None:
    headers = {"content-type": "application/json"}
    broken = await _call(_app(), "PATCH", "/thing", content=b'{"name": ', headers=headers)
    assert broken.status_code == 400
    assert broken.headers["content-type"] == "application/problem+json"
    assert "not valid JSON" in broken.json()["detail"]
    wrong = await _call(_app(), "PATCH", "/thing", json={"name": 3})
    assert wrong.status_code == 422


async def test_405_lists_every_method_of_the_path() -> None:
    response = await _call(_app(), "DELETE", "/thing")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET, PATCH"


async def test_the_real_app_answers_400_and_405_as_documented() -> None:
    app = create_app(settings=Settings(mqtt_url=None))
    response = await _call(app, "PUT", "/api/v1/tenants/acme")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH"}
    headers = {"content-type": "application/json"}
    broken = await _call(app, "POST", "/api/v1/tenants", content=b"{'id': 1}", headers=headers)
    assert broken.status_code == 400
    assert broken.json()["title"] == "Bad Request"


def test_roles_are_an_enum_and_principals_carry_it() -> None:
    assert [r.value for r in ROLES] == [
        "admin",
        "operator",
        "finance",
        "viewer",
        "technician",
        "customer",
    ]
    principal = Principal("k1", "finance", None)  # type: ignore[arg-type]
    assert principal.role is Role.FINANCE


def test_every_domain_router_is_mounted_by_name() -> None:
    app = create_app(settings=Settings(mqtt_url=None))
    paths = set(app.openapi()["paths"])
    for path in ("/api/v1/keys", "/api/v1/tenants", "/api/v1/alerts", "/api/v1/billing/plans",
                 "/api/v1/fleet/commands"):  # fmt: skip
        assert path in paths
    assert "/api/v1/devices/{device_id}/telemetry" in paths
    assert len(ROUTERS) == len(set(map(id, ROUTERS)))


def test_every_subcommand_is_listed_once_in_the_cli() -> None:
    names = [name for name, _, _ in cli.COMMANDS]
    assert len(names) == len(set(names))
    expected = {"migrate", "doctor", "registry", "ingest", "simulate", "detect", "score"}
    expected |= {
        "train",
        "evaluate",
        "bill",
        "billing",
        "api",
        "keys",
        "fleet",
        "service",
        "console",
    }
    expected |= {"demo"}
    assert set(names) == expected
    parser = cli.build_parser()
    assert parser.parse_args(["keys", "list"]).handler is not None


def test_no_module_discovers_its_wiring() -> None:
    offenders = []
    for path in ROOT.glob("**/*.py"):
        if ".venv" in path.parts or "build" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in ("find_spec", "import_module"):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_registry_sql_names_its_tables_literally() -> None:
    assert not (ROOT / "registry" / "queries.py").exists()
    for path in (ROOT / "registry").glob("*.py"):
        text = path.read_text()
        assert not re.search(r"\b(FROM|INTO|UPDATE|JOIN)\s+\{", text), path.name
