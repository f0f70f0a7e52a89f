"""What each console page shows, read through the other domains' services (never their
tables). Every function takes the viewer's principal and scopes by its tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.alerts import service as alerts
from analytics.alerts.models import AlertFilter, NotFound, Severity
from api.models import Principal
from billing import invoice_service, lifecycle, report_service
from billing import service as billing
from billing.models import Period
from console.wording import Names, headline
from ingest import queries as telemetry
from registry import objects_service as devices
from registry import service as registry
from servitize.db import Pool

# Chart ranges: how far back and which rollup width.
RANGES = {"1h": (timedelta(hours=1), "1m"), "1d": (timedelta(days=1), "1m"),
          "30d": (timedelta(days=30), "1h")}  # fmt: skip
_RANK = {s.value: i for i, s in enumerate(Severity)}
# Alert lists filter device type and text over this many newest alerts of the other filters.
SCAN = 500


async def zones(pool: Pool, who: Principal) -> dict[str, str]:
    """Time zone per visible tenant."""
    async with pool.acquire() as conn:
        tenants = None if who.tenant_id is None else [who.tenant_id]
        return await registry.tenant_timezones(conn, tenants)


async def names(pool: Pool, who: Principal) -> Names:
    """Device and site names and metric descriptions, for alert headlines."""
    sites = await devices.list_sites(pool, who.tenant_id, None, 10_000)
    found = await devices.list_devices(pool, {"tenant_id": who.tenant_id}, None, 100_000)
    metrics = {
        (t.id, m.name): m.description for t in await devices.device_types(pool) for m in t.metrics
    }
    return Names(
        devices={d["id"]: (d["name"], d["site_id"], d["device_type_id"]) for d in found},
        sites={s["id"]: s["name"] for s in sites},
        metrics={k: v for k, v in metrics.items() if v},
    )


def with_headlines(items: list[dict[str, Any]], known: Names) -> list[dict[str, Any]]:
    for a in items:
        a["headline"] = headline(a, known)
    return items


async def fleet(pool: Pool, who: Principal) -> dict[str, Any]:
    """Sites and devices with presence and the worst open alert of each device."""
    sites = await devices.list_sites(pool, who.tenant_id, None, 10_000)
    items = await devices.list_devices(pool, {"tenant_id": who.tenant_id}, None, 10_000)
    open_, _ = await alerts.list_alerts(
        pool, AlertFilter(tenant_id=who.tenant_id, state="open", limit=500)
    )
    worst: dict[str, str] = {}
    for a in open_:
        if _RANK[a["severity"]] > _RANK.get(worst.get(a["device_id"], ""), -1):
            worst[a["device_id"]] = a["severity"]
    for d in items:
        d["worst"] = worst.get(d["id"])
        d["open_alerts"] = sum(1 for a in open_ if a["device_id"] == d["id"])
    return {"sites": sites, "devices": items, "plot": site_plot(sites)}


def site_plot(sites: list[dict[str, Any]], w: int = 600, h: int = 300) -> list[dict[str, Any]]:
    """Sites with coordinates as (x, y) in a w x h box (equirectangular, padded)."""
    placed = [s for s in sites if s.get("latitude") is not None and s.get("longitude") is not None]
    if not placed:
        return []
    lats, lons = [s["latitude"] for s in placed], [s["longitude"] for s in placed]
    span_lat, span_lon = max(max(lats) - min(lats), 1e-6), max(max(lons) - min(lons), 1e-6)
    pad = 30
    points = [
        {"id": s["id"], "name": s["name"],
         "x": round(pad + (s["longitude"] - min(lons)) / span_lon * (w - 2 * pad), 1),
         "y": round(h - pad - (s["latitude"] - min(lats)) / span_lat * (h - 2 * pad), 1)}
        for s in placed
    ]  # fmt: skip
    return _labelled(points, w, h)


def _labelled(points: list[dict[str, Any]], w: int, h: int) -> list[dict[str, Any]]:
    """Labels on the side with room, stacked (towards the middle) clear of neighbours'."""
    for n, p in enumerate(points):
        p["anchor"] = "end" if p["x"] > w * 0.6 else "start"
        p["dx"] = -9 if p["anchor"] == "end" else 9
        near = [q for q in points[:n] if abs(q["x"] - p["x"]) < 80 and abs(q["y"] - p["y"]) < 14]
        p["dy"] = 4 + (14 if p["y"] < h / 2 else -14) * len(near)
    return points


async def alert_list(pool: Pool, who: Principal, q: dict[str, str | None]) -> list[dict[str, Any]]:
    """Newest alerts matching the filters (severity, state, site, device type, text)."""
    f = AlertFilter(
        tenant_id=who.tenant_id, state=q.get("state") or None, severity=q.get("severity") or None,
        site_id=q.get("site") or None, limit=SCAN,
    )  # fmt: skip
    items, _ = await alerts.list_alerts(pool, f)
    dtype, text = q.get("type") or None, (q.get("q") or "").strip().lower()
    if dtype:
        async with pool.acquire() as conn:
            ids = set(await registry.device_ids_of_type(conn, dtype))
        items = [a for a in items if a["device_id"] in ids]
    if text:
        items = [a for a in items if text in _haystack(a)]
    return with_headlines(items[:100], await names(pool, who))


def _haystack(a: dict[str, Any]) -> str:
    return f"{a['device_id']} {a['site_id'] or ''} {a['rule']} {a['sentence']}".lower()


async def alert(pool: Pool, who: Principal, alert_id: int) -> dict[str, Any]:
    """One alert with its trail and a 1-minute series of its metric around the evidence."""
    a = await alerts.detail(pool, alert_id, who.tenant_id)
    with_headlines([a], await names(pool, who))
    a["chart"] = None
    if a.get("metric"):
        end = (a["cleared_ts"] or a["last_ts"]) + timedelta(minutes=30)
        span = (
            a["first_ts"] - timedelta(hours=1),
            min(end, datetime.now(UTC) + timedelta(minutes=1)),
        )
        rows = await telemetry.buckets(pool, a["device_id"], "1m", span, [a["metric"]], None, 5000)
        a["chart"] = series(rows[:5000])
    return a


def series(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Bucket rows of one metric as uPlot columns: epoch seconds, avg, min, max."""
    return {
        "t": [r["bucket"].timestamp() for r in rows],
        "avg": [r["avg_value"] for r in rows],
        "min": [r["min_value"] for r in rows],
        "max": [r["max_value"] for r in rows],
    }


async def device(pool: Pool, who: Principal, device_id: str) -> dict[str, Any]:
    """A device with its latest values, its metrics and its alerts."""
    d = await devices.get_device(pool, device_id)
    if d is None or not who.can_see(d["tenant_id"]):
        raise NotFound(f"device {device_id} not found")
    now = datetime.now(UTC)
    rows = await telemetry.buckets(
        pool, device_id, "1h", (now - timedelta(days=2), now), None, None, 10_000
    )
    latest: dict[str, Any] = {}
    for r in rows:
        latest[r["metric"]] = r
    async with pool.acquire() as conn:
        d["metrics"] = await registry.type_metric_names(conn, d["device_type_id"])
    f = AlertFilter(tenant_id=who.tenant_id, device_id=device_id, limit=50)
    d["alerts"], _ = await alerts.list_alerts(pool, f)
    with_headlines(d["alerts"], await names(pool, who))
    d["latest"] = latest
    return d


async def device_series(
    pool: Pool, who: Principal, device_id: str, metric: str, range_: str
) -> dict[str, Any]:
    """One metric of a device over a range, with the spans of its alerts on that metric."""
    d = await devices.get_device(pool, device_id)
    if d is None or not who.can_see(d["tenant_id"]) or range_ not in RANGES:
        raise NotFound(f"device {device_id} not found")
    back, width = RANGES[range_]
    now = datetime.now(UTC)
    rows = await telemetry.buckets(pool, device_id, width, (now - back, now), [metric], None, 5000)
    f = AlertFilter(tenant_id=who.tenant_id, device_id=device_id, since=now - back, limit=200)
    marks = [
        {"from": a["first_ts"].timestamp(), "to": (a["cleared_ts"] or a["last_ts"]).timestamp(),
         "severity": a["severity"], "id": a["id"]}
        for a in (await alerts.list_alerts(pool, f))[0] if a["metric"] == metric
    ]  # fmt: skip
    span = [(now - back).timestamp(), now.timestamp()]
    return {"series": series(rows), "alerts": marks, "range": span}


async def finance(pool: Pool, who: Principal) -> dict[str, Any]:
    """Plans, subscriptions, invoices with their credit notes, and the last 12 months' MRR."""
    invoices = await invoice_service.list_invoices(pool, None, who.tenant_id)
    credits = []
    for inv in invoices[:200]:
        credits += await lifecycle.list_credit_notes(pool, inv["id"], who.tenant_id)
    report = await _revenue(pool, who, Period.of(datetime.now(UTC).date()))
    return {
        "plans": await billing.list_plans(pool),
        "subscriptions": await billing.list_subscriptions(pool, who.tenant_id),
        "invoices": invoices,
        "credits": credits,
        "revenue": report,
    }


async def _revenue(pool: Pool, who: Principal, now: Period) -> list[dict[str, Any]]:
    first = now
    for _ in range(11):
        first = first.previous()
    # drafts count too: this month's draft is the newest view of recurring revenue
    report = await report_service.revenue_report(
        pool, first, now, who.tenant_id, include_drafts=True
    )
    return list(report["months"])


async def invoice_pdf(pool: Pool, who: Principal, invoice_id: int) -> tuple[str, bytes]:
    """The invoice's file name and PDF (NotFound for another tenant's)."""
    return await report_service.invoice_pdf(pool, invoice_id, who.tenant_id)


async def period_csv(pool: Pool, who: Principal, period: str) -> str:
    return await report_service.period_csv(pool, Period.parse(period), who.tenant_id)
