"""Alert lifecycle on the real database: one open alert per key, transitions, audit, scope."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from analytics.alerts import service
from analytics.alerts.models import AlertFilter, Conflict, NotFound, device_time
from servitize import db
from servitize.db import Pool
from tests.integration.test_analytics_support import OTHER, PUMP, T0, clear, finding, seed


@pytest.fixture
async def seeded(pool: Pool) -> Pool:
    await seed(pool)
    return pool


async def _actions(pool: Pool, alert_id: int) -> list[str]:
    detail = await service.detail(pool, alert_id, None)
    return [e["action"] for e in detail["events"]]


async def _only_alert(pool: Pool) -> dict[str, Any]:
    items, _ = await service.list_alerts(pool, AlertFilter())
    assert len(items) == 1
    return items[0]


async def test_two_processes_same_key_make_one_alert(seeded: Pool, db_url: str) -> None:
    other = await db.create_pool(db_url, max_size=2)
    try:
        await asyncio.gather(
            *(
                service.apply_findings(p, [(PUMP, finding(first=T0 + i))], f"detector:{i}")
                for i, p in enumerate([seeded, other, seeded, other])
            )
        )
    finally:
        await other.close()
    alert = await _only_alert(seeded)
    assert alert["count"] == 4 and alert["first_ts"] == device_time(T0)
    assert (await _actions(seeded, int(alert["id"]))).count("opened") == 1


async def test_recurrence_updates_count_last_seen_and_peak(seeded: Pool) -> None:
    await service.apply_findings(seeded, [(PUMP, finding(value=90.0))], "d")
    await service.apply_findings(seeded, [(PUMP, finding(first=T0 + 60, value=97.0))], "d")
    alert = await _only_alert(seeded)
    assert alert["count"] == 2 and alert["last_ts"] == device_time(T0 + 60)
    assert alert["value"] == 97.0 and "97.0" in str(alert["sentence"])


async def test_escalation_is_audited(seeded: Pool) -> None:
    await service.apply_findings(seeded, [(PUMP, finding(severity="warning"))], "d")
    await service.apply_findings(
        seeded, [(PUMP, finding(first=T0 + 10, severity="critical", episodes=0))], "d"
    )
    alert = await _only_alert(seeded)
    assert alert["severity"] == "critical" and alert["count"] == 1
    assert await _actions(seeded, int(alert["id"])) == ["opened", "escalated"]


async def test_ack_then_clear_closes(seeded: Pool) -> None:
    await service.apply_findings(seeded, [(PUMP, finding())], "d")
    alert = await _only_alert(seeded)
    aid = int(alert["id"])
    acked = await service.acknowledge(seeded, aid, "ops@acme", "acme")
    assert acked["state"] == "active_acknowledged" and acked["acknowledged_by"] == "ops@acme"
    await service.apply_findings(seeded, [(PUMP, clear())], "d")
    detail = await service.detail(seeded, aid, None)
    assert detail["state"] == "closed" and detail["close_reason"] == "cleared_and_acknowledged"
    assert detail["cleared_ts"] == device_time(T0 + 600)
    assert [e["action"] for e in detail["events"]] == [
        "opened",
        "acknowledged",
        "cleared",
        "closed",
    ]
    assert [e["actor"] for e in detail["events"]] == ["d", "ops@acme", "d", "d"]


async def test_clear_then_ack_closes_and_reactivation(seeded: Pool) -> None:
    await service.apply_findings(seeded, [(PUMP, finding())], "d")
    await service.apply_findings(seeded, [(PUMP, clear())], "d")
    alert = await _only_alert(seeded)
    assert alert["state"] == "cleared_unacknowledged"
    await service.apply_findings(seeded, [(PUMP, finding(first=T0 + 900))], "d")
    alert = await _only_alert(seeded)
    assert alert["state"] == "active_unacknowledged" and alert["count"] == 2
    await service.apply_findings(seeded, [(PUMP, clear(at=T0 + 1500))], "d")
    closed = await service.acknowledge(seeded, int(alert["id"]), "ops", None)
    assert closed["state"] == "closed"
    assert await _actions(seeded, int(alert["id"])) == [
        *("opened", "cleared", "reactivated", "cleared", "acknowledged", "closed")
    ]
    # The key is free again: the next finding opens a new alert.
    await service.apply_findings(seeded, [(PUMP, finding(first=T0 + 3000))], "d")
    items, _ = await service.list_alerts(seeded, AlertFilter(state="open"))
    assert len(items) == 1 and items[0]["id"] != alert["id"]


async def test_resolve_comment_and_conflicts(seeded: Pool) -> None:
    await service.apply_findings(seeded, [(PUMP, finding())], "d")
    aid = int((await _only_alert(seeded))["id"])
    await service.comment(seeded, aid, "ops", "bearing replaced", "acme")
    resolved = await service.resolve(seeded, aid, "ops", "acme", note="fixed")
    assert resolved["state"] == "closed" and resolved["close_reason"] == "resolved"
    with pytest.raises(Conflict):
        await service.acknowledge(seeded, aid, "ops", None)
    detail = await service.detail(seeded, aid, None)
    assert detail["comments"][0]["body"] == "bearing replaced"
    assert [e["action"] for e in detail["events"]] == ["opened", "commented", "resolved"]


async def test_other_tenant_sees_not_found(seeded: Pool) -> None:
    await service.apply_findings(seeded, [(OTHER, finding())], "d")
    aid = int((await _only_alert(seeded))["id"])
    with pytest.raises(NotFound):
        await service.detail(seeded, aid, "acme")
    with pytest.raises(NotFound):
        await service.acknowledge(seeded, aid, "ops", "acme")
    items, _ = await service.list_alerts(seeded, AlertFilter(tenant_id="acme"))
    assert items == []


async def test_list_filters_and_cursor(seeded: Pool) -> None:
    for i in range(5):
        rule = f"rule:r{i}"
        sev = "critical" if i % 2 else "warning"
        await service.apply_findings(seeded, [(PUMP, finding(rule, severity=sev))], "d")
    page, cursor = await service.list_alerts(seeded, AlertFilter(limit=2))
    assert [a["rule"] for a in page] == ["rule:r4", "rule:r3"] and cursor is not None
    rest, end = await service.list_alerts(seeded, AlertFilter(limit=10, before_id=cursor))
    assert [a["rule"] for a in rest] == ["rule:r2", "rule:r1", "rule:r0"] and end is None
    crit, _ = await service.list_alerts(seeded, AlertFilter(severity="critical"))
    assert {a["rule"] for a in crit} == {"rule:r1", "rule:r3"}
    later, _ = await service.list_alerts(seeded, AlertFilter(since=device_time(T0 + 1)))
    assert later == []


async def test_maintenance_suppresses_and_skips_notification(seeded: Pool) -> None:
    secret = "s3cret-s3cret-s3cret"
    hook = {"url": "http://127.0.0.1:9/", "secret": secret}
    await service.set_webhook(seeded, "acme", hook, service.webhook_policy("127.0.0.1"))
    start = device_time(T0 - 60)
    await service.add_maintenance(
        seeded, "acme", start, start + timedelta(hours=1), "ops", site_id="plant-1"
    )
    await service.apply_findings(seeded, [(PUMP, finding())], "d")
    await service.apply_findings(seeded, [(PUMP, finding("rule:late", first=T0 + 7200))], "d")
    items, _ = await service.list_alerts(seeded, AlertFilter())
    by_rule = {a["rule"]: a for a in items}
    assert by_rule["rule:bearing_temp_high"]["suppressed"] is True
    assert by_rule["rule:late"]["suppressed"] is False
    async with seeded.acquire() as conn:
        kinds = await conn.fetch("SELECT alert_id, kind FROM notifications")
    assert [(r["alert_id"], r["kind"]) for r in kinds] == [(by_rule["rule:late"]["id"], "open")]


async def test_change_feed_notifies_event_ids(seeded: Pool, db_url: str) -> None:
    got: asyncio.Queue[str] = asyncio.Queue()
    conn = await db.connect(db_url)
    await conn.add_listener("servitize_alerts", lambda *a: got.put_nowait(a[3]))
    try:
        await service.apply_findings(seeded, [(PUMP, finding())], "d")
        event_id = int(await asyncio.wait_for(got.get(), 5))
    finally:
        await conn.close()
    feed = await service.events_after(seeded, event_id - 1, "acme")
    assert feed[0]["id"] == event_id and feed[0]["action"] == "opened"
    assert await service.events_after(seeded, event_id - 1, "globex") == []
