"""The OpenAPI document, with the problem responses every route can give listed on it.

Routes of every domain get the same error conventions, so the app adds them centrally
instead of relying on each router to declare them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.problems import MEDIA_TYPE, ProblemDoc

_WHY = {
    "400": "the body is not parseable JSON",
    "401": "missing, unknown or revoked API key",
    "403": "the key's role may not do this",
    "404": "no such object, or it belongs to another tenant",
    "409": "conflicts with the current state",
    "413": "the body is larger than the limit (1 MiB)",
    "422": "the request does not validate",
}
_REF = {"$ref": "#/components/schemas/ProblemDoc"}


def _codes(path: str, method: str, op: dict[str, Any]) -> list[str]:
    """Which problem statuses an operation can answer with."""
    codes = ["422"]
    if op.get("security"):
        codes += ["401", "403"]
    if "{" in path:
        codes.append("404")
    if method in ("post", "put", "patch", "delete"):
        codes.append("409")
    if "requestBody" in op:
        codes += ["400", "413"]
    return codes


def add_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """List problem+json responses on every operation (keeping what routes declared)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["ProblemDoc"] = (
        ProblemDoc.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            for code in _codes(path, method, op):
                response = responses.setdefault(code, {"description": _WHY[code]})
                response.setdefault("content", {})[MEDIA_TYPE] = {"schema": _REF}
    return schema


def install(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Replace app.openapi with a builder that adds the problem responses (cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = add_problems(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return openapi
