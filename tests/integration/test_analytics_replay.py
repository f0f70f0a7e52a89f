"""`servitize detect --replay`: stored history through the live pipelines, hour by hour."""

from __future__ import annotations

import numpy as np

from analytics.monitor.replay import replay
from servitize.db import Pool
from tests.integration.test_analytics_detect import BASE, _alerts, batch, ts
from tests.integration.test_analytics_support import seed

# a day of a pump's 10 s readings: past the default 240-reading warm-up, several hour batches
N = 8640


def _pump_day() -> dict[str, list[tuple[int, float]]]:
    """Flow and current on the pump curve; the current gauge reads 12 A high once."""
    rng = np.random.default_rng(8)
    flow = 200.0 + rng.normal(0, 15.0, N)
    current = 20.0 + 0.3 * flow - 4e-4 * flow**2 + rng.normal(0, 0.3, N)
    current[6000] += 12.0
    return {
        "flow_m3h": list(enumerate(flow.tolist())),
        "motor_current_a": list(enumerate(current.tolist())),
    }


async def test_replay_raises_what_the_live_pipeline_would(pool: Pool) -> None:
    await seed(pool)
    await batch(pool, "pump-1", _pump_day())
    dry = await replay(pool, BASE, ts(N), dry_run=True)
    assert dry["spike"] >= 1
    assert await _alerts(pool) == {}  # a dry run writes nothing
    await replay(pool, BASE, ts(N))
    alerts = await _alerts(pool)
    found = alerts["pump-1/spike:motor_current_a~flow_m3h"]
    assert found["first_ts"] == ts(6000)
    assert not [k for k in alerts if k.startswith("pump-2")]


async def test_replay_judges_only_its_window(pool: Pool) -> None:
    await seed(pool)
    await batch(pool, "pump-1", _pump_day())
    counts = await replay(pool, BASE, ts(5000), dry_run=True)
    assert counts["spike"] == 0  # the high current at reading 6,000 lies after the window
