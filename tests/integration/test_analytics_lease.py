"""Two real `servitize detect` processes on one partition: one folds, the other waits and
takes over when the first dies (the partition lease, analytics/monitor/lease.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

from analytics.alerts import service
from analytics.alerts.models import AlertFilter
from analytics.monitor import lease
from analytics.monitor import repository as monitor_repo
from servitize.db import Pool
from tests.integration.test_analytics_detect import batch
from tests.integration.test_analytics_support import seed


def _spawn(db_url: str, log: list[bytes]) -> subprocess.Popen[bytes]:
    """Start `servitize detect --partition 0/1`; its log lines are collected into `log`."""
    env = dict(os.environ, SERVITIZE_DATABASE_URL=db_url, SERVITIZE_LOG_LEVEL="INFO")
    proc = subprocess.Popen(
        [sys.executable, "-m", "servitize.cli", "detect", "--partition", "0/1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stream = proc.stderr
    assert stream is not None
    threading.Thread(target=lambda: log.extend(iter(stream.readline, b"")), daemon=True).start()
    return proc


async def _holder(pool: Pool) -> int | None:
    async with pool.acquire() as conn:
        return await monitor_repo.lease_holder(conn, "0/1")


async def _until(check, within: float) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > within:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def _fault(pool: Pool, code: str) -> dict[str, object] | None:
    items, _ = await service.list_alerts(pool, AlertFilter(limit=100))
    return next((a for a in items if a["rule"] == f"fault:{code}"), None)


async def _fault_seen(pool: Pool, code: str, within: float) -> float:
    async def seen() -> bool:
        return await _fault(pool, code) is not None

    return await _until(seen, within)


async def test_second_detector_waits_and_takes_over_a_dead_ones_partition(
    pool: Pool, db_url: str
) -> None:
    await seed(pool)
    first_log: list[bytes] = []
    second_log: list[bytes] = []
    first = _spawn(db_url, first_log)
    second: subprocess.Popen[bytes] | None = None
    try:

        async def held() -> bool:
            return await _holder(pool) is not None

        await _until(held, 30)
        holder = await _holder(pool)
        second = _spawn(db_url, second_log)

        async def waiting() -> bool:
            return any(b"waiting" in line for line in second_log)

        await _until(waiting, 60)  # the second process is up and waiting for the lease
        assert second.poll() is None and await _holder(pool) == holder
        for i, code in enumerate(("E1", "E2")):
            await batch(pool, "pump-1", {}, events=[(10 + i, "fault_code", code, "major")])
            await _fault_seen(pool, code, 30)
        await asyncio.sleep(2)  # time for a second folder, if there were one
        for code in ("E1", "E2"):
            alert = await _fault(pool, code)
            assert alert is not None and alert["count"] == 1
        events = await service.events_after(pool, 0, None)
        assert [e["action"] for e in events] == ["opened", "opened"]

        first.send_signal(signal.SIGKILL)
        first.wait(10)

        async def taken() -> bool:
            return await _holder(pool) not in (None, holder)

        took = await _until(taken, lease.TAKEOVER_S)
        await batch(pool, "pump-2", {}, events=[(20, "fault_code", "E3", "major")])
        await _fault_seen(pool, "E3", 30)
        alert = await _fault(pool, "E3")
        assert alert is not None and alert["count"] == 1 and alert["device_id"] == "pump-2"
        print(f"partition taken over {took:.2f} s after the holder was killed")
        assert took < lease.TAKEOVER_S
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(20)
    assert any(b"lease taken" in line for line in second_log), second_log
