"""Schemathesis against the OpenAPI schema of a live server on a seeded database.

It checks that no generated request gets a 5xx, an undocumented status or content type, or a
body that breaks the response schema.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from servitize import db
from servitize.settings import Settings
from tests import services
from tests.integration.test_api_support import add_readings, live_server, seed

# Small enough for `make test` (well under a minute); raise it for a deeper hunt.
EXAMPLES = int(os.environ.get("SERVITIZE_SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


async def _prepare(url: str) -> str:
    pool = await db.create_pool(url, max_size=2)
    try:
        world = await seed(pool)
        start = datetime.now(UTC) - timedelta(hours=2)
        await add_readings(pool, "acme-r1", "motor_temp_c", start, [40.0, 41.0, 999.0])
    finally:
        await pool.close()
    return world.tokens[("admin", None)]


@pytest.fixture(scope="module")
def live_api(pg_server: str, template_db: str) -> Iterator[tuple[str, str]]:
    """A uvicorn server on 127.0.0.1 over a seeded copy of the template database."""
    url = asyncio.run(services.create_database(pg_server, template=template_db))
    token = asyncio.run(_prepare(url))
    try:
        with live_server(Settings(database_url=url, mqtt_url=None)) as base:
            yield base, token
    finally:
        asyncio.run(services.drop_database(pg_server, url))


# The schema comes from the app itself (no database needed to build it).
SCHEMA = schemathesis.openapi.from_dict(create_app(settings=Settings()).openapi())
# Server-Sent Events streams never end, so they are tested on their own, not fuzzed.
OPERATIONS = [
    op
    for op in (result.ok() for result in SCHEMA.get_all_operations())  # type: ignore[union-attr]
    if not op.path.endswith("/stream")
]


def _has_inputs(op: Any) -> bool:
    return any(len(part) for part in (op.path_parameters, op.query, op.headers, op.body))


# Negative (invalid) requests only exist for operations that take some input.
CASES = [(op, GenerationMode.POSITIVE) for op in OPERATIONS]
CASES += [(op, GenerationMode.NEGATIVE) for op in OPERATIONS if _has_inputs(op)]


@pytest.mark.parametrize(
    ("operation", "mode"), CASES, ids=[f"{op.label} {mode.value}" for op, mode in CASES]
)
def test_api_conforms_to_its_schema(
    operation: Any, mode: GenerationMode, live_api: tuple[str, str]
) -> None:
    base, token = live_api

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        case.call_and_validate(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
        )

    check()
