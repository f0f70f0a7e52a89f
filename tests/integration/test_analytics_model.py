"""Training the multivariate model from stored telemetry, versions and replacement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.monitor.detect import Detector
from analytics.monitor.modelstore import active_models, train
from servitize.db import Pool
from tests.integration.test_analytics_support import seed

BASE = datetime(2026, 1, 1, tzinfo=UTC)


async def _history(pool: Pool, devices: list[str], n: int = 300) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for device in devices:
        load = np.convolve(rng.uniform(0.3, 1.0, n), np.ones(10) / 10, mode="same")
        cols = {
            "motor_current_a": 100 * load,
            "bearing_temp_c": 40 + 30 * load,
            "vibration_rms_mm_s": 1 + 2 * load,
            "pressure_bar": 3 * load,
            "flow_m3h": 200 * load,
        }
        for metric, values in cols.items():
            noisy = values + rng.normal(0, 0.01 * values.std() + 1e-3, n)
            rows += [
                (device, metric, BASE + timedelta(seconds=10 * i), float(v))
                for i, v in enumerate(noisy)
            ]
    async with pool.acquire() as conn:
        await conn.copy_records_to_table(
            "telemetry", records=rows, columns=["device_id", "metric", "ts", "value"]
        )


async def test_train_store_replace_and_use(pool: Pool) -> None:
    await seed(pool)
    await _history(pool, ["pump-1", "pump-2"])
    end = BASE + timedelta(hours=2)
    first = await train(pool, "pump-motor", BASE, end)
    assert (first.version, first.devices, first.samples) == (1, 2, 600)
    second = await train(pool, "pump-motor", BASE, end)
    assert second.version == 2
    models = await active_models(pool)
    assert models["pump-motor"].meta["version"] == 2
    async with pool.acquire() as conn:
        active = await conn.fetch("SELECT version FROM analytics_models WHERE active")
        window = await conn.fetchrow(
            "SELECT trained_from, trained_to FROM analytics_models WHERE version = 2"
        )
    assert [r["version"] for r in active] == [2]
    assert window is not None and (window["trained_from"], window["trained_to"]) == (BASE, end)
    det = Detector(pool)
    await det.start()
    assert det.pipeline("pump-1").model is not None


async def test_train_without_data_is_a_clear_error(pool: Pool) -> None:
    await seed(pool)
    with pytest.raises(ValueError, match="aligned rows"):
        await train(pool, "pump-motor", BASE, BASE + timedelta(hours=1))
    with pytest.raises(ValueError, match="unknown device type"):
        await train(pool, "no-such-type", BASE, BASE + timedelta(hours=1))
