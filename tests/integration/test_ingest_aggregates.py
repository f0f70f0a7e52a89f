"""1 m / 1 h / 1 d buckets equal raw rows after backfill, late readings and multi-day streams.

On both storage paths: readings go MQTT -> ingest, the upkeep loop runs as `servitize ingest`
runs it, on TimescaleDB the deployed refresh policies run in its own background worker, and
the API's buckets (httpx against the app on the real database) are compared with the same
aggregation done in SQL on raw rows; once upkeep has caught up, the rollup storage itself
(rollup tables / materialization hypertables) is compared too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from ingest.spans import align
from servitize import db
from servitize.db import Pool
from tests.integration import test_api_support as api
from tests.integration.aggregates_support import (
    api_buckets,
    deployed,
    raw_buckets,
    readings,
    run_policies,
    send,
    settled,
    stored_buckets,
    stored_rows,
)

Headers = dict[str, str]
Window = tuple[datetime, datetime]
STORAGE = [
    pytest.param("db_url", id="postgresql"),
    pytest.param("timescale_url", id="timescaledb", marks=pytest.mark.timescale),
]


@pytest.fixture(params=STORAGE)
def store_url(request: pytest.FixtureRequest) -> str:
    """A migrated database on the plain or the TimescaleDB path."""
    url: str = request.getfixturevalue(request.param)
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Pool]:
    pool = await db.create_pool(store_url, max_size=8)
    yield pool
    await pool.close()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _days(first: datetime, last: datetime) -> Window:
    return align(first, "1d"), align(last, "1d") + timedelta(days=1)


async def _api_equals_raw(pool: Pool, headers: Headers, window: Window) -> None:
    async with api.client(pool) as c:
        for width in ("1m", "1h", "1d"):
            got = await api_buckets(c, headers, width, window)
            assert got == await raw_buckets(pool, width, window), width
            assert got, width


async def _stored_equals_raw(pool: Pool, window: Window) -> None:
    for width in ("1m", "1h"):
        assert await stored_buckets(pool, width, window) == await raw_buckets(pool, width, window)


async def _equal_now_and_after_upkeep(pool: Pool, headers: Headers, window: Window) -> None:
    """API == raw right after commit (upkeep may or may not have run), and again once upkeep
    and the deployed policies have run; then the rollup storage itself == raw too."""
    await _api_equals_raw(pool, headers, window)
    await settled(pool)
    await run_policies(pool)
    await _api_equals_raw(pool, headers, window)
    await _stored_equals_raw(pool, window)


async def _seed(pool: Pool) -> Headers:
    return (await api.seed(pool)).headers()


async def test_backfill_days_old_and_buffer_replay(store: Pool, broker_url: str) -> None:
    headers = await _seed(store)
    now = _now()
    live = readings(now - timedelta(minutes=20), 120, 10)
    old_start = now - timedelta(days=3, hours=5)
    replay = readings(old_start, 360, 60, phase=7) + readings(now, 5, 1, phase=500)
    window = _days(old_start, now)
    async with deployed(store, broker_url):
        await send(broker_url, live)
        await stored_rows(store, 120)
        await settled(store)
        await run_policies(store)  # the deployed policies move the watermark to ~now
        await send(broker_url, replay)  # a device's buffer: 3 days back, then live again
        await stored_rows(store, 485)
        await _equal_now_and_after_upkeep(store, headers, window)


async def test_late_readings_into_materialized_buckets(store: Pool, broker_url: str) -> None:
    headers = await _seed(store)
    start = align(_now() - timedelta(hours=5), "1h")
    window = _days(start, start + timedelta(hours=1))
    async with deployed(store, broker_url):
        await send(broker_url, readings(start, 180, 10))
        await stored_rows(store, 180)
        await settled(store)
        await run_policies(store)
        await _stored_equals_raw(store, window)
        before = await stored_buckets(store, "1m", window)
        late = readings(start + timedelta(seconds=5), 180, 10, phase=41)
        await send(broker_url, late)  # the same minutes, readings 5 s later
        await stored_rows(store, 360)
        await _equal_now_and_after_upkeep(store, headers, window)
    after = await stored_buckets(store, "1m", window)
    battery = [(b[1], b[5]) for b in after if b[0] == "battery_pct"]
    assert battery == [(b[1], 2 * b[5]) for b in before if b[0] == "battery_pct"]
    assert len(battery) == 30


async def test_multi_day_accelerated_stream(store: Pool, broker_url: str) -> None:
    headers = await _seed(store)
    start = align(_now() - timedelta(days=4), "1m")
    stream = readings(start, 4 * 1440, 60)  # four days of one reading a minute, sent fast
    window = _days(start, _now())
    async with deployed(store, broker_url):
        await send(broker_url, stream[:2880], per_message=120)
        await run_policies(store)  # a policy run mid-stream, while upkeep folds batches in
        await send(broker_url, stream[2880:], per_message=120)
        await stored_rows(store, len(stream))
        await _equal_now_and_after_upkeep(store, headers, window)
    minutes = await raw_buckets(store, "1m", window)
    assert sum(b[5] for b in minutes if b[0] == "battery_pct") == len(stream)
