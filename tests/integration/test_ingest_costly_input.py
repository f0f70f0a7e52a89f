"""One device's unstorable events and huge numbers cost that device's values, nobody's batch."""

from __future__ import annotations

import json

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

BAD_EVENTS: list[dict[str, object]] = [
    {"type": "fault\u0000code"},
    {"type": "fault", "attrs": {"note": "\ud800"}},
    {"type": "fault", "code": "E\u00001"},
]


def _messages() -> list[tuple[str, object]]:
    """Per 100 messages of the fleet, one unstorable event of pump-0 and one huge value."""
    out: list[tuple[str, object]] = []
    for i in range(300):
        out.append((f"devices/pump-{1 + i % 2}/telemetry", {"readings": [reading(i)]}))
        if i % 100 == 50:
            event = BAD_EVENTS[i // 100] | {"ts": reading(i)["ts"]}
            out.append(("devices/pump-0/events", event))
            huge = json.dumps(reading(i, {"flow_m3h": -1.0, "pressure_bar": 2.0}))
            out.append(("devices/pump-0/telemetry", huge.replace("-1.0", "7" * 400)))
    return out


async def test_bad_events_keep_the_batch_path_and_their_provenance(
    pool: Pool, broker_url: str
) -> None:
    await seed(pool, 3)
    async with running_ingest(pool, broker_url, batch_max_delay_s=0.5) as service:
        await publish(broker_url, _messages())
        await eventually(lambda: _rows(pool, 303))
        assert service.isolated_batches == 0
    async with pool.acquire() as conn:
        rejects = await conn.fetch(
            "SELECT device_id, topic, reason, detail, payload FROM ingest_rejects ORDER BY id"
        )
        counters = await repository.counters(conn)
    events = [r for r in rejects if r["reason"] == "invalid_event"]
    assert [(r["device_id"], r["topic"]) for r in events] == [
        ("pump-0", "devices/pump-0/events")
    ] * 3
    assert all("lone surrogates" in r["detail"] and '"type"' in r["payload"] for r in events)
    values = [r for r in rejects if r["reason"] == "invalid_value"]
    assert [r["device_id"] for r in values] == ["pump-0"] * 3
    assert "storage_error" not in {r["reason"] for r in rejects}
    assert counters["accepted"] == 303 and counters["messages"] == 306
    assert await count(pool, "SELECT count(*) FROM device_events") == 0


async def _rows(pool: Pool, n: int) -> bool:
    return await count(pool, "SELECT count(*) FROM telemetry") >= n
