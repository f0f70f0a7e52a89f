"""Telemetry routes: raw with flags, buckets from rollups (with the fresh tail), CSV, bounds."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from ingest.rollup import refresh_rollups
from servitize import db
from servitize.db import Pool
from tests.integration.test_api_support import add_readings, client, seed

HOUR = datetime(2026, 3, 1, 8, tzinfo=UTC)
URL = "/api/v1/devices/acme-r1/telemetry"


def _window(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


async def test_raw_readings_show_flags_and_page(pool: Pool) -> None:
    w = await seed(pool)
    values = [40.0, 41.0, 999.0, 43.0, 44.0]
    await add_readings(pool, "acme-r1", "motor_temp_c", HOUR, values)
    await add_readings(pool, "acme-r1", "battery_pct", HOUR, [90.0, 89.0])
    params = _window(HOUR, HOUR + timedelta(hours=1)) | {"metric": "motor_temp_c", "limit": "3"}
    async with client(pool) as c:
        first = (await c.get(URL, params=params, headers=w.headers("operator"))).json()
        rest = await c.get(
            URL, params=params | {"after": first["next_cursor"]}, headers=w.headers("operator")
        )
        both = (
            await c.get(URL, params=_window(HOUR, HOUR + timedelta(hours=1)), headers=w.headers())
        ).json()
    got = [r["value"] for r in first["readings"] + rest.json()["readings"]]
    assert got == values
    assert [r["out_of_range"] for r in first["readings"]] == [False, False, True]
    assert first["readings"][2]["flags"] == 1
    assert rest.json()["next_cursor"] is None
    assert {r["metric"] for r in both["readings"]} == {"motor_temp_c", "battery_pct"}


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "at most 31 days"),
        ({"from": "2026-03-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "before"),
        ({"from": "2026-03-01T00:00:00"}, "timezone"),
        ({"resolution": "1h", "from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "366"),
        ({"limit": "10001"}, "less than or equal"),
        ({"after": "motor_temp_c~2026-13-45T99:99"}, "cursor"),
        ({"resolution": "5m"}, "resolution"),
    ],
)
async def test_bounds_are_enforced(pool: Pool, params: dict[str, str], why: str) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        response = await c.get(URL, params=params, headers=w.headers())
    assert response.status_code == 422
    assert why in response.text


async def test_buckets_merge_rollup_and_not_yet_rolled_tail(pool: Pool) -> None:
    w = await seed(pool)
    old = [40.0, 42.0, 44.0, 500.0]  # 500 is out of range: stored flagged, left out of buckets
    new = [50.0, 52.0]
    await add_readings(pool, "acme-r1", "motor_temp_c", HOUR, old, committed_ago_s=60)
    async with pool.acquire() as conn:
        assert await refresh_rollups(conn) == 1
        # Prove the first hour is read from the rollup: its raw rows are gone now.
        await conn.execute("DELETE FROM telemetry WHERE ts < $1", HOUR + timedelta(hours=1))
    await add_readings(pool, "acme-r1", "motor_temp_c", HOUR + timedelta(hours=1), new)
    params = _window(HOUR, HOUR + timedelta(hours=2)) | {"resolution": "1h"}
    async with client(pool) as c:
        hourly = (await c.get(URL, params=params, headers=w.headers())).json()["buckets"]
        daily = (await c.get(URL, params=params | {"resolution": "1d"}, headers=w.headers())).json()
    assert [b["n"] for b in hourly] == [3, 2]
    assert hourly[0]["avg_value"] == pytest.approx(statistics.mean(old[:3]))
    assert (hourly[0]["max_value"], hourly[0]["last_value"]) == (44.0, 44.0)
    assert hourly[1]["avg_value"] == pytest.approx(statistics.mean(new))
    day = daily["buckets"]
    assert [b["bucket"] for b in day] == ["2026-03-01T00:00:00Z"]
    assert day[0]["n"] == 5
    assert day[0]["avg_value"] == pytest.approx(statistics.mean(old[:3] + new))
    assert (day[0]["min_value"], day[0]["last_value"]) == (40.0, 52.0)


async def test_minute_buckets_and_csv_download(pool: Pool) -> None:
    w = await seed(pool)
    values = [float(v) for v in range(12)]  # two minutes at 10 s
    await add_readings(pool, "acme-r1", "motor_temp_c", HOUR, values)
    params = _window(HOUR, HOUR + timedelta(minutes=2))
    async with client(pool) as c:
        minutes = (
            await c.get(URL, params=params | {"resolution": "1m"}, headers=w.headers())
        ).json()
        raw_csv = await c.get(
            URL + ".csv", params=params | {"limit": "5"}, headers=w.headers("viewer")
        )
        bucket_csv = await c.get(
            URL + ".csv", params=params | {"resolution": "1m"}, headers=w.headers()
        )
    assert [b["avg_value"] for b in minutes["buckets"]] == [2.5, 8.5]
    assert raw_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(raw_csv.text)))
    assert [float(r["value"]) for r in rows] == values[:5]
    assert rows[0]["device_id"] == "acme-r1"
    assert raw_csv.headers["x-next-cursor"].startswith("motor_temp_c~")
    buckets = list(csv.DictReader(io.StringIO(bucket_csv.text)))
    assert [int(r["n"]) for r in buckets] == [6, 6]
    assert "x-next-cursor" not in bucket_csv.headers


async def test_unknown_device_is_404(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        response = await c.get("/api/v1/devices/ghost/telemetry", headers=w.headers())
    assert response.status_code == 404


@pytest.mark.timescale
async def test_timescale_buckets_come_from_continuous_aggregates(timescale_url: str) -> None:
    pool = await db.create_pool(timescale_url, max_size=3)
    try:
        w = await seed(pool)
        start = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
        await add_readings(pool, "acme-r1", "motor_temp_c", start, [10.0, 20.0, 30.0], step_s=1200)
        await add_readings(pool, "acme-r1", "motor_temp_c", start + timedelta(hours=1), [5.0])
        params = _window(start, start + timedelta(hours=2)) | {"resolution": "1h"}
        async with client(pool) as c:
            hourly = (await c.get(URL, params=params, headers=w.headers())).json()["buckets"]
            daily = await c.get(URL, params=params | {"resolution": "1d"}, headers=w.headers())
            ready = (await c.get("/api/v1/health/ready")).json()
    finally:
        await pool.close()
    assert [(b["n"], b["avg_value"]) for b in hourly] == [(3, 20.0), (1, 5.0)]
    assert sum(b["n"] for b in daily.json()["buckets"]) == 4  # two days if it spans midnight
    assert ready["storage_path"] == "timescaledb"
