"""Rules, regimes, relations and the offline policy are data of the device type: a type
created through the API carries them into the live detector and the presence view."""

from __future__ import annotations

from typing import Any

import httpx

from analytics.alerts import service
from analytics.alerts.models import AlertFilter
from analytics.monitor.detect import Detector
from servitize.db import Pool
from tests.integration.test_analytics_detect import batch
from tests.integration.test_api_support import World, client, seed

TANK = {
    "id": "tank-level",
    "name": "Tank level sensor",
    "reporting_interval_s": 10,
    "metrics": [{"name": "level_pct", "unit": "%", "min_value": 0, "max_value": 100}],
    "offline_after_intervals": 2,
    "rules": [
        {"kind": "threshold", "name": "tank_overfill", "metric": "level_pct", "op": ">",
         "limit": 95.0, "for_s": 0, "severity": "critical"},
    ],
}  # fmt: skip
BARE = {**TANK, "id": "tank-bare", "rules": []}


async def _create(c: httpx.AsyncClient, w: World, body: dict[str, Any], device: str) -> None:
    r = await c.post("/api/v1/device-types", json=body, headers=w.headers())
    assert r.status_code == 201, r.text
    dev = {"id": device, "device_type_id": body["id"], "tenant_id": "acme"}
    r = await c.post("/api/v1/devices", json=dev, headers=w.headers())
    assert r.status_code == 201, r.text


async def _rules(pool: Pool, device: str) -> dict[str, dict[str, Any]]:
    items, _ = await service.list_alerts(pool, AlertFilter(device_id=device, limit=50))
    return {a["rule"]: a for a in items}


async def test_a_type_created_through_the_api_carries_its_rules(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        await _create(c, w, TANK, "tank-1")
        await _create(c, w, BARE, "tank-2")
        got = (await c.get("/api/v1/device-types/tank-level", headers=w.headers())).json()
        assert got["rules"][0]["name"] == "tank_overfill" and got["offline_after_intervals"] == 2
        bare = (await c.get("/api/v1/device-types/tank-bare", headers=w.headers())).json()
        assert bare["rules"] == [] and bare["regime"] is None and bare["relations"] == []
    det = Detector(pool)
    await det.start()
    full = [(i, 50.0) for i in range(5)] + [(5 + i, 98.0) for i in range(3)]
    await batch(pool, "tank-1", {"level_pct": full})
    await batch(pool, "tank-2", {"level_pct": full})
    await det.step()
    alerts = await _rules(pool, "tank-1")
    assert alerts["rule:tank_overfill"]["severity"] == "critical"
    assert "rule:tank_overfill" not in await _rules(pool, "tank-2")


async def test_rules_naming_unknown_metrics_or_fields_are_refused(pool: Pool) -> None:
    w = await seed(pool)
    bad_metric = {**TANK, "rules": [{**TANK["rules"][0], "metric": "nope"}]}  # type: ignore[index]
    bad_field = {**TANK, "rules": [{**TANK["rules"][0], "limt": 3}]}  # type: ignore[index]
    bad_kind = {**TANK, "rules": [{**TANK["rules"][0], "kind": "magic"}]}  # type: ignore[index]
    async with client(pool) as c:
        for body in (bad_metric, bad_field, bad_kind, {**TANK, "offline_after_intervals": 0}):
            r = await c.post("/api/v1/device-types", json=body, headers=w.headers())
            assert r.status_code == 422, (body, r.text)


async def test_one_offline_policy_for_presence_and_the_offline_alert(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        await _create(c, w, TANK, "tank-1")  # 10 s interval, offline after 2 intervals
    det = Detector(pool)
    await det.start()

    async def after(silent_s: int) -> tuple[str, bool]:
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO device_status (device_id, online, status_changed_at, last_seen_at) "
                "VALUES ('tank-1', true, now(), now() - make_interval(secs => $1)) "
                "ON CONFLICT (device_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at",
                float(silent_s),
            )
            presence = await conn.fetchval(
                "SELECT presence FROM device_presence WHERE device_id = 'tank-1'"
            )
        await det.check_offline()
        offline = (await _rules(pool, "tank-1")).get("offline")
        return presence, offline is not None and offline["active"]

    assert await after(15) == ("online", False)
    assert await after(25) == ("silent", True)
