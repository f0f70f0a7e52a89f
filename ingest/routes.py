"""Telemetry API of one device: raw readings, 1 min / 1 h / 1 d buckets, CSV download."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api import problems as p
from api.deps import PoolDep
from api.problems import Problem
from api.schemas import DEVICE_ID_PATTERN, METRIC_PATTERN, Timestamp
from api.security import Principal, Role, require_role
from ingest import queries
from registry import objects_service as registry
from servitize.db import Pool

router = APIRouter(tags=["telemetry"])

# Raw rows are many (a robot reports 11 metrics every 10 s: ~95,000 rows a day), so raw
# ranges stay within a month; hourly or daily buckets may span a year.
MAX_SPAN = {"raw": timedelta(days=31), "1m": timedelta(days=31)}
MAX_SPAN |= {"1h": timedelta(days=366), "1d": timedelta(days=366)}
MAX_POINTS = 10_000
MAX_CSV_ROWS = 100_000
OUT_OF_RANGE = 1  # flags bit 1: the value lies outside the catalog's valid range

Resolution = Literal["raw", "1m", "1h", "1d"]
Reader = Annotated[Principal, Depends(require_role(Role.OPERATOR, Role.VIEWER))]
DevicePath = Annotated[str, Path(pattern=DEVICE_ID_PATTERN)]
Metrics = Annotated[
    list[Annotated[str, Field(pattern=METRIC_PATTERN)]] | None,
    Query(max_length=50, description="only these metrics (repeat the parameter)"),
]
From = Annotated[Timestamp | None, Query(alias="from", description="start (default: end - 1 day)")]
To = Annotated[Timestamp | None, Query(alias="to", description="end, exclusive (default: now)")]
Cursor = Annotated[
    str | None,
    Query(pattern=r"^[a-z][a-z0-9_]{0,62}~[0-9T:.+-]{10,40}$", description="next_cursor"),
]


class Reading(BaseModel):
    """One stored reading."""

    metric: str
    ts: datetime
    value: float
    seq: int | None
    flags: int = Field(description="bit 1: outside the catalog's valid range")
    out_of_range: bool


class Bucket(BaseModel):
    """Aggregates of one metric over one bucket (in-range readings only)."""

    metric: str
    bucket: datetime
    min_value: float
    max_value: float
    avg_value: float
    n: int
    last_value: float


class Series(BaseModel):
    """Telemetry of one device over a range, ordered by metric then time."""

    model_config = {
        "json_schema_extra": {
            "example": {
                "device_id": "robot-7",
                "resolution": "1h",
                "start": "2026-11-01T00:00:00Z",
                "end": "2026-11-02T00:00:00Z",
                "readings": [],
                "buckets": [
                    {
                        "metric": "motor_temp_c",
                        "bucket": "2026-11-01T00:00:00Z",
                        "min_value": 41.2,
                        "max_value": 47.9,
                        "avg_value": 44.1,
                        "n": 360,
                        "last_value": 45.0,
                    }
                ],
                "next_cursor": None,
            }
        }
    }
    device_id: str
    resolution: Resolution
    start: datetime
    end: datetime
    readings: list[Reading] = Field(description="raw resolution only")
    buckets: list[Bucket] = Field(description="1m, 1h and 1d resolutions only")
    next_cursor: str | None


def _span(
    start: datetime | None, end: datetime | None, resolution: str
) -> tuple[datetime, datetime]:
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=1)
    if start >= end:
        raise Problem(422, "Unprocessable Content", "from must be before to")
    if end - start > MAX_SPAN[resolution]:
        raise Problem(
            422,
            "Unprocessable Content",
            f"{resolution} range is at most {MAX_SPAN[resolution].days} days",
        )
    return start, end


def _cursor(value: str | None) -> tuple[str, datetime] | None:
    if value is None:
        return None
    metric, _, ts = value.partition("~")
    try:
        moment = datetime.fromisoformat(ts)
    except ValueError as exc:
        raise Problem(422, "Unprocessable Content", "malformed cursor") from exc
    if moment.tzinfo is None:
        raise Problem(422, "Unprocessable Content", "malformed cursor")
    return metric, moment


async def _visible_device(pool: Pool, who: Principal, device_id: str) -> None:
    device = await registry.get_device(pool, device_id)
    if device is None or not who.can_see(device["tenant_id"]):
        raise Problem(404, "Not Found", f"device {device_id} not found")


async def _fetch(
    pool: Pool, device_id: str, resolution: str, span: Any, metrics: Any, cursor: Any, limit: int
) -> list[dict[str, Any]]:
    """One page (plus one row to tell whether more follow) after the client's cursor."""
    after = _cursor(cursor)
    if resolution == "raw":
        return await queries.raw(pool, device_id, span, metrics, after, limit)
    return await queries.buckets(pool, device_id, resolution, span, metrics, after, limit)


def _next(rows: list[dict[str, Any]], limit: int) -> str | None:
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return f"{last['metric']}~{(last.get('ts') or last['bucket']).isoformat()}"


@router.get("/devices/{device_id}/telemetry", response_model=Series, responses=p.READ)
async def telemetry(
    device_id: DevicePath,
    pool: PoolDep,
    who: Reader,
    start: From = None,
    end: To = None,
    resolution: Resolution = "raw",
    metric: Metrics = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = 1000,
    after: Cursor = None,
) -> Any:
    """Raw readings (flags shown) or 1m/1h/1d buckets; pages follow next_cursor."""
    await _visible_device(pool, who, device_id)
    span = _span(start, end, resolution)
    rows = await _fetch(pool, device_id, resolution, span, metric, after, limit)
    page = rows[:limit]
    readings = (
        [r | {"out_of_range": bool(r["flags"] & OUT_OF_RANGE)} for r in page]
        if resolution == "raw"
        else []
    )
    return {
        "device_id": device_id,
        "resolution": resolution,
        "start": span[0],
        "end": span[1],
        "readings": readings,
        "buckets": page if resolution != "raw" else [],
        "next_cursor": _next(rows, limit),
    }


_CSV_COLUMNS = {
    "raw": ["metric", "ts", "value", "seq", "flags"],
    "buckets": ["metric", "bucket", "min_value", "max_value", "avg_value", "n", "last_value"],
}


@router.get(
    "/devices/{device_id}/telemetry.csv",
    response_class=Response,
    responses=p.READ
    | {
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "CSV with a header row; X-Next-Cursor when truncated",
        }
    },
)
async def telemetry_csv(
    device_id: DevicePath,
    pool: PoolDep,
    who: Reader,
    start: From = None,
    end: To = None,
    resolution: Resolution = "raw",
    metric: Metrics = None,
    limit: Annotated[int, Query(ge=1, le=MAX_CSV_ROWS)] = MAX_CSV_ROWS,
    after: Cursor = None,
) -> Response:
    """The same data as CSV for spreadsheets (device_id column first)."""
    await _visible_device(pool, who, device_id)
    span = _span(start, end, resolution)
    rows = await _fetch(pool, device_id, resolution, span, metric, after, limit)
    columns = _CSV_COLUMNS["raw" if resolution == "raw" else "buckets"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["device_id", *columns])
    for row in rows[:limit]:
        writer.writerow(
            [
                device_id,
                *(row[c].isoformat() if isinstance(row[c], datetime) else row[c] for c in columns),
            ]
        )
    headers = {"Content-Disposition": f'attachment; filename="{device_id}-{resolution}.csv"'}
    if cursor := _next(rows, limit):
        headers["X-Next-Cursor"] = cursor
    return Response(out.getvalue(), media_type="text/csv", headers=headers)
