"""The detect service on the real database: ingest feed in, alerts out, exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.alerts import service
from analytics.alerts.models import AlertFilter
from analytics.monitor.detect import Detector, run_detector
from analytics.monitor.feed import in_partition
from servitize.db import Connection, Pool
from tests.integration.test_analytics_support import seed

BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def ts(i: int) -> datetime:
    return BASE + timedelta(seconds=10 * i)


async def write_batch(
    conn: Connection,
    device: str,
    values: dict[str, list[tuple[int, float]]],
    events: list[tuple[int, str, str, str]] = (),  # type: ignore[assignment]
) -> int:
    """Insert rows and their ingest_batches row exactly as ingest does (one transaction)."""
    rows = [(device, m, ts(i), v) for m, pts in values.items() for i, v in pts]
    await conn.executemany(
        "INSERT INTO telemetry (device_id, metric, ts, value) VALUES ($1, $2, $3, $4)", rows
    )
    await conn.executemany(
        "INSERT INTO device_events (device_id, ts, type, code, severity) VALUES ($1,$2,$3,$4,$5)",
        [(device, ts(i), t, c, s) for i, t, c, s in events],
    )
    times = [r[2] for r in rows] + [ts(e[0]) for e in events]
    batch_id: int = await conn.fetchval(
        "INSERT INTO ingest_batches (device_ids, min_ts, max_ts, readings, events) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        [device],
        min(times),
        max(times),
        len(rows),
        len(events),
    )
    await conn.execute("SELECT pg_notify('servitize_ingest', $1)", str(batch_id))
    return batch_id


async def batch(
    pool: Pool, device: str, values: dict[str, list[tuple[int, float]]], **kw: object
) -> int:
    async with pool.acquire() as conn, conn.transaction():
        return await write_batch(conn, device, values, **kw)  # type: ignore[arg-type]


def normal(start: int, n: int, level: float = 60.0, seed_: int = 0) -> list[tuple[int, float]]:
    rng = np.random.default_rng(seed_ + start)
    return [(start + i, float(level + rng.normal(0, 0.3))) for i in range(n)]


@pytest.fixture
async def seeded(pool: Pool) -> Pool:
    await seed(pool)
    return pool


async def _alerts(pool: Pool) -> dict[str, dict[str, object]]:
    items, _ = await service.list_alerts(pool, AlertFilter(limit=100))
    return {f"{a['device_id']}/{a['rule']}": a for a in items}


async def test_threshold_alert_in_device_time_and_restart_is_exactly_once(seeded: Pool) -> None:
    det = Detector(seeded)
    await det.start()
    await batch(seeded, "pump-1", {"bearing_temp_c": normal(0, 300)})
    assert await det.step() == 1 and await _alerts(seeded) == {}
    hot = [(300 + i, 95.0 + 0.1 * (i % 3)) for i in range(30)]
    await batch(seeded, "pump-1", {"bearing_temp_c": hot})
    await det.step()
    alerts = await _alerts(seeded)
    high = alerts["pump-1/rule:bearing_temp_high"]
    assert high["first_ts"] == ts(312) and high["last_ts"] == ts(329)  # 120 s after ts(300)
    # A restarted detector neither repeats what was written nor misses what follows.
    again = Detector(seeded)
    await again.start()
    assert await again.step() == 0
    await batch(seeded, "pump-1", {"bearing_temp_c": [(330 + i, 96.0) for i in range(5)]})
    await again.step()
    high = (await _alerts(seeded))["pump-1/rule:bearing_temp_high"]
    assert high["count"] == 1 and high["last_ts"] == ts(334)
    await batch(seeded, "pump-1", {"bearing_temp_c": normal(335, 30)})
    await again.step()
    cleared = (await _alerts(seeded))["pump-1/rule:bearing_temp_high"]
    assert cleared["state"] == "cleared_unacknowledged" and cleared["cleared_ts"] == ts(341)


async def test_batches_committed_out_of_order_are_not_lost(seeded: Pool, db_url: str) -> None:
    det = Detector(seeded)
    await det.start()
    slow = await seeded.acquire()
    tx = slow.transaction()
    await tx.start()
    try:
        early = await write_batch(slow, "pump-1", {"bearing_temp_c": [(1, 99.0)]})
        late = await batch(seeded, "pump-2", {"bearing_temp_c": [(2, 50.0)]})
        assert late > early
        assert await det.step() == 1 and det.cursor.gaps.keys() == {early}
        await tx.commit()
    finally:
        await seeded.release(slow)
    assert await det.step() == 1 and not det.cursor.gaps


async def test_fault_codes_open_and_clear(seeded: Pool) -> None:
    det = Detector(seeded)
    await det.start()
    await batch(seeded, "pump-1", {}, events=[(5, "fault_code", "E42", "critical")])
    await det.step()
    fault = (await _alerts(seeded))["pump-1/fault:E42"]
    assert fault["severity"] == "critical" and fault["first_ts"] == ts(5)
    await batch(seeded, "pump-1", {}, events=[(9, "fault_cleared", "E42", "")])
    await det.step()
    cleared = (await _alerts(seeded))["pump-1/fault:E42"]
    assert cleared["state"] == "cleared_unacknowledged" and cleared["cleared_ts"] == ts(9)


async def test_offline_by_last_will_and_by_silence(seeded: Pool) -> None:
    det = Detector(seeded)
    await det.start()
    async with seeded.acquire() as conn:
        await conn.execute(
            "INSERT INTO device_status (device_id, online, last_seen_at, last_reading_ts) VALUES "
            "('pump-1', false, now(), now()), ('pump-2', true, now() - interval '10 minutes', "
            "now() - interval '10 minutes'), ('pump-9', true, now(), now())"
        )
    await det.check_offline()
    alerts = await _alerts(seeded)
    assert set(alerts) == {"pump-1/offline", "pump-2/offline"}
    assert "Last Will" in str(alerts["pump-1/offline"]["sentence"])
    assert await det.check_offline() == 0  # still offline: nothing new
    async with seeded.acquire() as conn:
        await conn.execute("UPDATE device_status SET online = true, last_seen_at = now()")
    await det.check_offline()
    states = {k: a["state"] for k, a in (await _alerts(seeded)).items()}
    assert states == {
        "pump-1/offline": "cleared_unacknowledged",
        "pump-2/offline": "cleared_unacknowledged",
    }


async def test_partitions_split_devices(seeded: Pool) -> None:
    dets = [Detector(seeded, (i, 2)) for i in range(2)]
    for d in dets:
        await d.start()
    for dev in ("pump-1", "pump-2", "pump-9"):
        await batch(
            seeded, dev, {"bearing_temp_c": [(1, 99.0)]}, events=[(1, "fault_code", "E1", "major")]
        )
    for d in dets:
        await d.step()
    owners = {
        dev: [i for i in range(2) if in_partition(dev, (i, 2))]
        for dev in ("pump-1", "pump-2", "pump-9")
    }
    assert all(len(v) == 1 for v in owners.values())
    alerts = await _alerts(seeded)
    assert {k for k in alerts if k.endswith("fault:E1")} == {f"{d}/fault:E1" for d in owners}
    events = await service.events_after(seeded, 0, None)
    assert sorted(e["actor"] for e in events) == sorted(
        f"detector:{owners[d][0]}/2" for d in owners
    )


async def test_run_detector_reacts_to_notifications(seeded: Pool) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_detector(seeded, stop))
    try:
        await asyncio.sleep(0.3)
        await batch(seeded, "pump-2", {}, events=[(3, "fault_code", "E7", "major")])
        for _ in range(50):
            if "pump-2/fault:E7" in await _alerts(seeded):
                break
            await asyncio.sleep(0.1)
        assert "pump-2/fault:E7" in await _alerts(seeded)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_learnt_limits_survive_a_restart(seeded: Pool) -> None:
    det = Detector(seeded, warmup_s=3000)  # 300 readings at the pump's 10 s
    await det.start()
    await batch(seeded, "pump-1", {"vibration_rms_mm_s": normal(0, 320, level=2.0)})
    await det.step()
    async with seeded.acquire() as conn:
        saved = await conn.fetch("SELECT device_id, metric, limits FROM detector_series_state")
    assert [(r["device_id"], r["metric"]) for r in saved] == [("pump-1", "vibration_rms_mm_s")]
    again = Detector(seeded, warmup_s=3000)
    await again.start()
    series = again.pipeline("pump-1").series["vibration_rms_mm_s"].detector
    assert series.limits is not None
    # the level keeps adapting as the last readings are replayed; the learnt limits do not
    restored = {k: v for k, v in series.limits.to_json().items() if k != "level"}
    assert restored == {k: v for k, v in saved[0]["limits"].items() if k != "level"}
    await batch(seeded, "pump-1", {"vibration_rms_mm_s": [(320, 2.0), (321, 6.5), (322, 2.0)]})
    await again.step()
    assert "pump-1/spike:vibration_rms_mm_s" in await _alerts(seeded)


def _current(flow: np.ndarray) -> np.ndarray:
    """A pump curve's motor current at a flow (A at m3/h)."""
    return 20.0 + 0.3 * flow - 4e-4 * flow**2


async def test_a_relation_fit_survives_a_restart(seeded: Pool) -> None:
    det = Detector(seeded, warmup_s=3000)
    await det.start()
    rng = np.random.default_rng(5)
    flow = 200.0 + rng.normal(0, 15.0, 320)
    current = _current(flow) + rng.normal(0, 0.3, 320)
    await batch(
        seeded,
        "pump-1",
        {"flow_m3h": list(enumerate(flow.tolist())), "motor_current_a": list(enumerate(current))},
    )
    await det.step()
    async with seeded.acquire() as conn:
        saved = {r["metric"] for r in await conn.fetch("SELECT metric FROM detector_series_state")}
    assert "motor_current_a~flow_m3h" in saved
    again = Detector(seeded, warmup_s=3000)
    await again.start()
    assert again.pipeline("pump-1").relations["motor_current_a~flow_m3h"].fitted
    # 12 A more than the flow explains, with the flow itself unremarkable
    wrong = float(_current(np.array([205.0]))[0]) + 12.0
    await batch(seeded, "pump-1", {"flow_m3h": [(320, 205.0)], "motor_current_a": [(320, wrong)]})
    await again.step()
    assert "pump-1/spike:motor_current_a~flow_m3h" in await _alerts(seeded)
