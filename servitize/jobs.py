"""TimescaleDB background jobs (policies) as the scheduler reports them, for doctor and health.

On PostgreSQL 15.20 with TimescaleDB 2.28.3 every policy run does its work and commits, and
then fails at clean-up with `cannot drop portal "" while it is being set up` (SQLSTATE
24000), so the scheduler marks each run failed and backs off. Such a run is reported as
"ran" (its work is in the database) but never as a success: `last_success` stays empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from servitize.db import Connection
from servitize.storage import timescale_version

# The clean-up error that follows a committed run on PostgreSQL 15.20 (docs/storage.md).
PORTAL_CLEANUP_ERROR = 'cannot drop portal "" while it is being set up'

_JOBS = """
SELECT j.job_id, j.proc_name, coalesce(j.hypertable_name, '') AS target,
       j.schedule_interval, j.scheduled, s.last_run_started_at, s.last_run_status,
       CASE WHEN isfinite(s.last_successful_finish) THEN s.last_successful_finish END
           AS last_success,
       s.next_start, coalesce(s.total_failures, 0) AS failures,
       (SELECT e.err_message FROM timescaledb_information.job_errors e
        WHERE e.job_id = j.job_id ORDER BY e.start_time DESC LIMIT 1) AS last_error
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s USING (job_id)
WHERE j.proc_name <> 'policy_telemetry'
ORDER BY j.job_id
"""


@dataclass(frozen=True, kw_only=True)
class JobStatus:
    """One TimescaleDB job: what it does, when it last ran and how, and when it runs next."""

    job_id: int
    name: str
    target: str
    schedule: timedelta
    scheduled: bool
    last_run: datetime | None
    last_status: str | None
    last_success: datetime | None
    next_start: datetime | None
    failures: int
    last_error: str | None

    @property
    def committed_then_failed(self) -> bool:
        """The last run failed only at clean-up, after its work was committed."""
        return self.last_status == "Failed" and self.last_error == PORTAL_CLEANUP_ERROR

    @property
    def ok(self) -> bool:
        """Scheduled, and its last run (if any) did its work."""
        ran = self.last_status in (None, "Success") or self.committed_then_failed
        return self.scheduled and ran

    def describe(self) -> str:
        """One line: target, last run, last success, next start."""
        outcome = self.last_status or "not yet run"
        if self.committed_then_failed:
            outcome = "work committed, then marked Failed (cannot drop portal; docs/storage.md)"
        elif self.last_status == "Failed":
            outcome = f"Failed: {self.last_error or 'see timescaledb_information.job_errors'}"
        return (
            f"{self.name} {self.target}".rstrip()
            + f": last run {_when(self.last_run)} ({outcome}), last success "
            + f"{_when(self.last_success)}, next start {_when(self.next_start)}, "
            + f"{self.failures} failures, every {self.schedule}"
        )


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "never"


async def timescale_jobs(conn: Connection) -> list[JobStatus]:
    """The database's TimescaleDB jobs (none without the extension)."""
    if not await timescale_version(conn):
        return []
    rows = await conn.fetch(_JOBS)
    return [
        JobStatus(
            job_id=r["job_id"],
            name=r["proc_name"],
            target=r["target"],
            schedule=r["schedule_interval"],
            scheduled=r["scheduled"],
            last_run=r["last_run_started_at"],
            last_status=r["last_run_status"],
            last_success=r["last_success"],
            next_start=r["next_start"],
            failures=r["failures"],
            last_error=r["last_error"],
        )
        for r in rows
    ]
