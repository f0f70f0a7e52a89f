"""Touched time ranges become whole-bucket refresh windows; job states are classified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest.aggregates import refresh_plan
from ingest.pending import Pending
from ingest.rollup import device_windows
from ingest.spans import bucket_windows
from servitize.jobs import PORTAL_CLEANUP_ERROR, JobStatus

T = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def test_windows_cover_whole_buckets_and_include_the_last_moment() -> None:
    assert bucket_windows([(_at(0.5), _at(2.0))], "1m") == [(_at(0), _at(3))]
    assert bucket_windows([(_at(1), _at(1))], "1m") == [(_at(1), _at(2))]


def test_touching_and_overlapping_windows_merge_distant_ones_do_not() -> None:
    live = [(_at(0), _at(0.9)), (_at(1.2), _at(1.5)), (_at(0.3), _at(0.4))]
    backfill = [(_at(-3 * 1440), _at(-3 * 1440 + 10))]
    assert bucket_windows(live + backfill, "1m") == [
        (_at(-3 * 1440), _at(-3 * 1440 + 11)),
        (_at(0), _at(2)),
    ]
    assert bucket_windows(live, "1h") == [(_at(0), _at(60))]
    assert bucket_windows([], "1h") == []


def test_plans_refresh_each_aggregate_per_window_and_devices_separately() -> None:
    batches = [
        Pending(1, ["a"], (_at(0), _at(1))),
        Pending(2, ["a", "b"], (_at(-600), _at(-599))),
    ]
    assert refresh_plan(batches) == [
        ("telemetry_1m", (_at(-600), _at(-598))),
        ("telemetry_1m", (_at(0), _at(2))),
        ("telemetry_1h", (_at(-600), _at(-540))),
        ("telemetry_1h", (_at(0), _at(60))),
    ]
    assert device_windows(batches, "1h") == [
        ("a", _at(-600), _at(-540)),
        ("a", _at(0), _at(60)),
        ("b", _at(-600), _at(-540)),
    ]


def _job(status: str | None, error: str | None, scheduled: bool = True) -> JobStatus:
    return JobStatus(
        job_id=1000,
        name="policy_retention",
        target="telemetry",
        schedule=timedelta(days=1),
        scheduled=scheduled,
        last_run=T if status else None,
        last_status=status,
        last_success=None,
        next_start=_at(5),
        failures=1 if status == "Failed" else 0,
        last_error=error,
    )


def test_a_committed_run_failing_at_cleanup_is_reported_but_not_as_success() -> None:
    portal = _job("Failed", PORTAL_CLEANUP_ERROR)
    assert portal.ok and "work committed, then marked Failed" in portal.describe()
    assert "last success never" in portal.describe()
    assert not _job("Failed", "permission denied").ok
    assert "permission denied" in _job("Failed", "permission denied").describe()
    assert _job("Success", None).ok and _job(None, None).ok
    assert not _job("Success", None, scheduled=False).ok
    assert "last run 2026-03-01T08:00:00+00:00" in _job("Success", None).describe()
