"""Liveness, readiness (database, schema, storage path, broker) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from pydantic import BaseModel

import servitize
from api.deps import PoolDep, get_app_settings
from ingest import service as ingest
from servitize import migrate
from servitize.db import Pool
from servitize.jobs import timescale_jobs
from servitize.mqtturl import MqttUrl
from servitize.settings import Settings
from servitize.storage import active_path, timescale_version

router = APIRouter(tags=["health"])
metrics_router = APIRouter(tags=["health"])

# A readiness probe must answer well inside a typical 1-2 s probe timeout.
_CHECK_TIMEOUT_S = 1.0


class Check(BaseModel):
    """One dependency's state."""

    ok: bool
    detail: str


class Job(BaseModel):
    """One TimescaleDB background job (retention, compression, aggregate refresh)."""

    job_id: int
    name: str
    target: str
    ok: bool
    last_run: datetime | None
    last_status: str | None
    last_success: datetime | None
    next_start: datetime | None
    failures: int
    detail: str


class Readiness(BaseModel):
    """Whether the API can serve, and what it runs on."""

    model_config = {
        "json_schema_extra": {
            "example": {
                "status": "ok",
                "version": "0.1.0",
                "storage_path": "timescaledb",
                "database": {"ok": True, "detail": "PostgreSQL 15.8, schema 300"},
                "broker": {"ok": True, "detail": "mqtt://127.0.0.1:1883 reachable"},
                "jobs": [],
            }
        }
    }
    status: Literal["ok", "degraded", "unavailable"]
    version: str
    storage_path: str | None
    database: Check
    broker: Check
    jobs: list[Job] = []


@router.get("/health/live")
async def live() -> dict[str, str]:
    """The process is up (no dependency is checked)."""
    return {"status": "ok"}


async def _database(pool: Pool) -> tuple[Check, str | None]:
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT_S), pool.acquire() as conn:
            version = await conn.fetchval("SHOW server_version")
            have, want = await migrate.schema_version(conn), migrate.latest_version()
            path = (await active_path(conn)).value if have else None
            ts = await timescale_version(conn)
    except (TimeoutError, OSError, Exception) as exc:  # any failure means "not ready"
        return Check(ok=False, detail=f"unreachable: {type(exc).__name__}"), None
    detail = f"PostgreSQL {version}, schema {have}" + (f", timescaledb {ts}" if ts else "")
    if have < want:
        return Check(ok=False, detail=f"{detail}; code needs {want}: run servitize migrate"), path
    return Check(ok=True, detail=detail), path


async def _jobs(pool: Pool) -> list[Job]:
    """TimescaleDB's policy jobs; empty on plain PostgreSQL or if they cannot be read."""
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT_S), pool.acquire() as conn:
            found = await timescale_jobs(conn)
    except Exception:  # the database check reports why the database is unreachable
        return []
    return [
        Job(
            job_id=j.job_id,
            name=j.name,
            target=j.target,
            ok=j.ok,
            last_run=j.last_run,
            last_status=j.last_status,
            last_success=j.last_success,
            next_start=j.next_start,
            failures=j.failures,
            detail=j.describe(),
        )
        for j in found
    ]


async def _broker(settings: Settings) -> Check:
    if not settings.mqtt_url:
        return Check(ok=False, detail="SERVITIZE_MQTT_URL is not set")
    try:
        url = MqttUrl.parse(settings.mqtt_url)
    except ValueError as exc:
        return Check(ok=False, detail=str(exc))
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT_S):
            _, writer = await asyncio.open_connection(url.host, url.port)
        writer.close()
    except (TimeoutError, OSError):
        return Check(ok=False, detail=f"{url.host}:{url.port} unreachable")
    return Check(ok=True, detail=f"{url.host}:{url.port} reachable")


@router.get(
    "/health/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "the database is unavailable"}},
)
async def ready(
    pool: PoolDep,
    settings: Annotated[Settings, Depends(get_app_settings)],
) -> Any:
    """Ready when the database answers and is migrated; a missing broker or a failing
    TimescaleDB job only degrades."""
    (database, path), broker, jobs = await asyncio.gather(
        _database(pool), _broker(settings), _jobs(pool)
    )
    healthy = database.ok and broker.ok and all(j.ok for j in jobs)
    status = "ok" if healthy else "degraded" if database.ok else "unavailable"
    body = Readiness(
        status=status,
        version=servitize.__version__,
        storage_path=path,
        database=database,
        broker=broker,
        jobs=jobs,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if database.ok else 503)


class _Snapshot(Collector):
    """Ingest counters as read from the database at scrape time."""

    def __init__(self, counters: dict[str, int]) -> None:
        self.counters = counters

    def collect(self) -> Any:
        rejected = CounterMetricFamily(
            "servitize_ingest_rejected", "Messages rejected by ingest, by reason", labels=["reason"]
        )
        other = CounterMetricFamily(
            "servitize_ingest_total", "Ingest counters (sum over instances)", labels=["name"]
        )
        for name, value in sorted(self.counters.items()):
            if name.startswith("rejected_"):
                rejected.add_metric([name.removeprefix("rejected_")], value)
            else:
                other.add_metric([re.sub(r"[^a-z0-9_]", "_", name)], value)
        yield from (other, rejected)


async def _ingest_counters(pool: Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        totals = await ingest.counter_totals(conn)
    return {name: int(v) for name, v in totals.items()}


def request_counter(registry: CollectorRegistry) -> Counter:
    """The API's own request counter, in the app's registry."""
    return Counter(
        "servitize_api_requests",
        "API requests by method, route and status",
        ["method", "route", "status"],
        registry=registry,
    )


@metrics_router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request, pool: PoolDep) -> PlainTextResponse:
    """Prometheus metrics: API requests and the ingest counters kept in the database."""
    snapshot = CollectorRegistry()
    snapshot.register(_Snapshot(await _ingest_counters(pool)))
    body = generate_latest(request.app.state.metrics) + generate_latest(snapshot)
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")
