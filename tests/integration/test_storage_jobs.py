"""TimescaleDB policy jobs: they run, and doctor and /health/ready report each one's runs."""

from __future__ import annotations

from datetime import datetime

import pytest

from servitize import db
from servitize.db import Pool
from servitize.jobs import PORTAL_CLEANUP_ERROR, JobStatus, timescale_jobs
from servitize.settings import Settings
from tests.integration.ingest_support import eventually
from tests.integration.test_api_support import client
from tests.integration.test_cli_kernel import servitize_cli

_NOT_YET_RUN = """SELECT count(*) FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s USING (job_id)
WHERE j.proc_name <> 'policy_telemetry'
  AND (s.last_run_started_at IS NULL OR s.last_run_started_at < $1 OR s.job_status = 'Running')"""


async def _run_every_job_now(pool: Pool) -> datetime:
    """Bring every job's next start forward; the scheduler's own workers run them."""
    async with pool.acquire() as conn:
        mark: datetime = await conn.fetchval("SELECT now()")
        await conn.execute(
            "SELECT alter_job(job_id, next_start => now()) FROM timescaledb_information.jobs "
            "WHERE proc_name <> 'policy_telemetry'"
        )

    async def all_ran() -> bool:
        async with pool.acquire() as conn:
            return int(await conn.fetchval(_NOT_YET_RUN, mark)) == 0

    await eventually(all_ran, within=90)
    return mark


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _same(reported: dict[str, object], job: JobStatus) -> bool:
    moments = (reported["last_run"], reported["last_success"], reported["next_start"])
    expected = (_iso(job.last_run), _iso(job.last_success), _iso(job.next_start))
    return moments == expected and reported["last_status"] == job.last_status


@pytest.mark.timescale
async def test_jobs_run_and_are_reported(timescale_url: str, broker_url: str) -> None:
    pool = await db.create_pool(timescale_url, max_size=3)
    try:
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO telemetry (device_id, metric, ts, value) "
                "VALUES ('old', 'x', now() - INTERVAL '400 days', 1), ('new', 'x', now(), 1)"
            )
        mark = await _run_every_job_now(pool)
        async with pool.acquire() as conn:
            jobs = await timescale_jobs(conn)
            left = [r["device_id"] for r in await conn.fetch("SELECT device_id FROM telemetry")]
        async with client(pool, Settings(mqtt_url=broker_url)) as c:
            ready = (await c.get("/api/v1/health/ready")).json()
        doctor = servitize_cli(
            "doctor", SERVITIZE_DATABASE_URL=timescale_url, SERVITIZE_MQTT_URL=broker_url
        )
    finally:
        await pool.close()
    assert left == ["new"]  # the retention policy's run deleted the expired chunk
    targets = {(j.name, j.target) for j in jobs}
    for table in ("telemetry", "device_events", "telemetry_1m", "telemetry_1h"):
        assert ("policy_retention", table) in targets
    assert ("policy_compression", "telemetry") in targets
    refresh = {("policy_refresh_continuous_aggregate", v) for v in ("telemetry_1m", "telemetry_1h")}
    assert refresh <= targets
    assert all(j.last_run and j.last_run >= mark and j.next_start for j in jobs)
    # A run is a success, or (PostgreSQL 15.20 + TimescaleDB 2.28.3) committed, then failed.
    assert all(j.last_status == "Success" or j.last_error == PORTAL_CLEANUP_ERROR for j in jobs)
    assert all(j.ok for j in jobs)
    assert [r["job_id"] for r in ready["jobs"]] == [j.job_id for j in jobs]
    assert all(_same(r, j) for r, j in zip(ready["jobs"], jobs, strict=True))
    assert ready["status"] == "ok"
    assert doctor.returncode == 0, doctor.stdout
    for job in jobs:
        line = next(x for x in doctor.stdout.splitlines() if f"job {job.job_id} " in x)
        assert job.last_run and f"last run {job.last_run.isoformat(timespec='seconds')}" in line
        assert "next start" in line and "last success" in line
