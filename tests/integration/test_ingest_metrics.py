"""An ingest process serves its own Prometheus metrics: outcomes, batch sizes, commit lag."""

from __future__ import annotations

import signal

import httpx

from servitize.db import Pool
from servitize.infra import free_port
from tests import services
from tests.integration.ingest_support import count, eventually, publish, reading, seed, spawn_ingest


def _sample(text: str, name: str) -> float:
    """The value of the first sample line that starts with `name`."""
    for line in text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exposed")


async def test_ingest_process_exposes_counters_and_lag(
    pool: Pool, db_url: str, broker_url: str
) -> None:
    await seed(pool, 1)
    port = free_port()
    group = "m" if services.shared_subscriptions() else ""
    proc = spawn_ingest(
        db_url, broker_url, f"metrics-{port}", group, SERVITIZE_INGEST_METRICS_PORT=str(port)
    )
    try:

        async def stored() -> bool:
            await publish(
                broker_url,
                [("devices/pump-0/telemetry", {"readings": [reading(i) for i in range(20)]})],
            )
            return await count(pool, "SELECT count(*) FROM telemetry") == 20

        await eventually(stored)
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert _sample(text, 'servitize_ingest_events_total{kind="accepted"}') == 20
    assert _sample(text, "servitize_ingest_commit_lag_seconds_count") >= 1
    assert _sample(text, "servitize_ingest_batch_rows_count") >= 1
