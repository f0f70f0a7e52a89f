"""Device presence from the status topic and from inactivity."""

from __future__ import annotations

from servitize.db import Pool
from tests.integration.ingest_support import eventually, publish, reading, running_ingest, seed


async def _presence(pool: Pool) -> dict[str, str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT device_id, presence FROM device_presence")
    return {r["device_id"]: r["presence"] for r in rows}


async def test_presence_follows_status_and_silence(pool: Pool, broker_url: str) -> None:
    ids = await seed(pool, 4, prefix="pres")
    async with running_ingest(pool, broker_url):
        await publish(
            broker_url,
            [
                (f"devices/{ids[0]}/telemetry", reading(0)),
                (f"devices/{ids[1]}/telemetry", reading(0)),
                (f"devices/{ids[2]}/telemetry", reading(0)),
            ],
        )
        await publish(broker_url, [(f"devices/{ids[1]}/status", b"offline")])

        async def settled() -> bool:
            return (await _presence(pool)).get(ids[1]) == "offline"

        await eventually(settled)
    async with pool.acquire() as conn:
        # pump-motor reports every 10 s and is silent after 5 intervals (its offline policy,
        # the same the offline alert uses): 51 s of silence is past it
        await conn.execute(
            "UPDATE device_status SET last_seen_at = now() - interval '51 seconds' "
            "WHERE device_id = $1",
            ids[2],
        )
    assert await _presence(pool) == {
        ids[0]: "online",
        ids[1]: "offline",
        ids[2]: "silent",
        ids[3]: "never_seen",
    }
