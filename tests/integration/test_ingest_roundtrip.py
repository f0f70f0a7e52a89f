"""Ingest against a real broker and a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest import repository
from servitize.db import Pool
from tests.integration.ingest_support import (
    count,
    eventually,
    publish,
    reading,
    running_ingest,
    seed,
)


async def test_publish_to_row_batches_events_and_status(pool: Pool, broker_url: str) -> None:
    await seed(pool)
    async with running_ingest(pool, broker_url):
        await publish(
            broker_url,
            [
                ("devices/pump-0/telemetry", reading(0, {"flow_m3h": 12.5, "pressure_bar": 3.25})),
                ("devices/pump-1/telemetry", {"readings": [reading(i) for i in range(50)]}),
                (
                    "devices/pump-2/events",
                    {
                        "ts": reading(3)["ts"],
                        "type": "inspection_completed",
                        "attrs": {"checkpoints": 12},
                    },
                ),
                ("devices/pump-2/status", b"offline"),
            ],
        )
        await eventually(lambda: _rows_equal(pool, 52))
        await eventually(lambda: _status_is(pool, "pump-2", False))
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT * FROM telemetry WHERE device_id = 'pump-0' AND metric = 'pressure_bar'"
        )
        assert row is not None and row["value"] == 3.25 and row["seq"] == 0
        ev = await conn.fetchrow("SELECT * FROM device_events")
        assert (
            ev is not None
            and ev["type"] == "inspection_completed"
            and ev["attrs"] == {"checkpoints": 12}
        )
        batches = await conn.fetch("SELECT * FROM ingest_batches ORDER BY id")
        assert sum(b["readings"] for b in batches) == 52
        assert sum(b["events"] for b in batches) == 1
        seen = await conn.fetchval(
            "SELECT last_reading_ts FROM device_status WHERE device_id = 'pump-1'"
        )
        assert seen == datetime.fromisoformat(str(reading(49)["ts"]))
        counters = await repository.counters(conn)
    assert counters["accepted"] == 52 and counters["events_accepted"] == 1


async def _rows_equal(pool: Pool, n: int) -> bool:
    return await count(pool, "SELECT count(*) FROM telemetry") == n


async def _status_is(pool: Pool, device: str, online: bool) -> bool:
    async with pool.acquire() as conn:
        value = await conn.fetchval("SELECT online FROM device_status WHERE device_id = $1", device)
        return bool(value is online)


async def test_redelivered_message_is_stored_once(pool: Pool, broker_url: str) -> None:
    await seed(pool, 1)
    message = ("devices/pump-0/telemetry", {"readings": [reading(i) for i in range(10)]})
    async with running_ingest(pool, broker_url):
        await publish(broker_url, [message, message, message])
        await eventually(lambda: _counter_at_least(pool, "duplicates", 20))
    assert await count(pool, "SELECT count(*) FROM telemetry") == 10
    async with pool.acquire() as conn:
        counters = await repository.counters(conn)
    assert counters["accepted"] == 10 and counters["duplicates"] == 20


async def _counter_at_least(pool: Pool, name: str, n: int) -> bool:
    async with pool.acquire() as conn:
        return (await repository.counters(conn)).get(name, 0) >= n


async def test_every_reject_reason_is_recorded_and_the_rest_kept(
    pool: Pool, broker_url: str
) -> None:
    await seed(pool, 2)
    await _disable(pool, "pump-1")
    now = datetime.now(UTC)
    bad = [
        ("devices/ghost/telemetry", reading(0)),
        ("devices/pump-1/telemetry", reading(0)),
        ("devices/pump-0/telemetry", b"{oops"),
        ("devices/pump-0/telemetry", b'{"ts": 1}'),
        ("devices/pump-0/telemetry", b"x" * (300 * 1024)),
        (
            "devices/pump-0/telemetry",
            {
                "readings": [
                    reading(1),
                    {"ts": (now + timedelta(hours=1)).isoformat(), "metrics": {"flow_m3h": 1}},
                    {"ts": "2001-01-01T00:00:00Z", "metrics": {"flow_m3h": 1}},
                    {"ts": "yesterday", "metrics": {"flow_m3h": 1}},
                    {"ts": now.isoformat(), "metrics": {"warp_factor": 9, "flow_m3h": 5}},
                ]
            },
        ),
        (
            "devices/pump-0/telemetry",
            f'{{"ts": {int(now.timestamp() * 1000)}, "metrics": {{"flow_m3h": NaN}}}}'.encode(),
        ),
        ("devices/pump-0/events", {"ts": now.isoformat()}),
        ("devices/pump-0/status", b"dozing"),
        ("devices/pump-0/telemetry", {"readings": [reading(0)] * 1001}),
    ]
    async with running_ingest(pool, broker_url):
        await publish(broker_url, bad)
        await eventually(lambda: _counter_at_least(pool, "messages", len(bad)))
    async with pool.acquire() as conn:
        reasons = {r["reason"] for r in await conn.fetch("SELECT reason FROM ingest_rejects")}
        counters = await repository.counters(conn)
        kept = await conn.fetchval("SELECT count(*) FROM telemetry")
        sample = await conn.fetchrow(
            "SELECT * FROM ingest_rejects WHERE reason = 'oversized_payload'"
        )
    assert reasons == {
        "unknown_device",
        "disabled_device",
        "malformed_json",
        "invalid_payload",
        "oversized_payload",
        "future_timestamp",
        "too_old",
        "invalid_timestamp",
        "unknown_metric",
        "invalid_value",
        "invalid_event",
        "invalid_status",
        "too_many_readings",
    }
    assert kept == 2  # reading(1) and the good metric next to warp_factor
    assert counters["rejected_unknown_metric"] == 1
    assert (
        sample is not None
        and sample["payload_bytes"] == 300 * 1024
        and len(sample["payload"]) <= 2048
    )


async def _disable(pool: Pool, device: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute("UPDATE devices SET enabled = false WHERE id = $1", device)
