"""Service reports: a PDF per work order, and a tenant's monthly service report (JSON, PDF)."""

from __future__ import annotations

import io
from dataclasses import asdict
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from fieldservice import clock, places, timeline
from fieldservice.invoicing import period_bounds
from fieldservice.models import Actor, NotFound
from fieldservice.stats import OrderFacts, summarize
from servitize.db import Pool

# reportlab's built-in Adobe CID font renders Chinese without shipping a font file.
FONT = "STSong-Light"


def _styles() -> tuple[ParagraphStyle, ParagraphStyle]:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    return body, ParagraphStyle("title", parent=body, fontSize=15, leading=20)


def _pdf(title: str, story: list[Any]) -> bytes:
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=title).build(story)
    return buf.getvalue()


def _table(rows: list[list[Any]], style: ParagraphStyle) -> Table:
    return Table([[Paragraph(escape(str(c)), style) for c in r] for r in rows])


def work_order_pdf(wo: dict[str, Any]) -> bytes:
    """The service report of one work order: what, when, who, time, parts, SLA, sign-off."""
    body, title = _styles()
    head = [
        ["Tenant 客户", wo["tenant_id"], "Device 设备", wo["device_id"] or "-"],
        ["Priority", wo["priority"], "State 状态", wo["state"]],
        ["Created", wo["created_at"], "Completed", wo["completed_at"] or "-"],
        [
            "Technician 工程师",
            wo["technician_id"] or "-",
            "Signed off 签字",
            wo["signoff_name"] or "-",
        ],
    ]
    times = [["Kind", "From", "To", "Minutes"]] + [
        [
            t["kind"],
            t["started_at"],
            t["ended_at"],
            round((t["ended_at"] - t["started_at"]).total_seconds() / 60),
        ]
        for t in wo["time_entries"]
    ]
    parts = [["Part 备件", "Description", "Qty", "Unit price"]] + [
        [p["part_no"], p["description"], p["quantity"], f"{Decimal(p['unit_price']) / 100:.2f}"]
        for p in wo["parts"]
    ]
    sla = [["Clock", "Due", "Stopped", "Paused min", "Breach min"]] + [
        [c["clock"], c["due"], c["stopped_at"] or "-", c["paused_minutes"], c["breach_minutes"]]
        for c in wo["sla"]
    ]
    story: list[Any] = [
        Paragraph(f"Service report 服务报告 {escape(wo['number'])}", title),
        Paragraph(escape(wo["title"]), body),
        Spacer(1, 8),
        _table(head, body),
    ]
    for caption, rows in (("Time 工时", times), ("Parts 备件", parts), ("SLA", sla)):
        story += [Spacer(1, 8), Paragraph(caption, body), _table(rows, body)]
    notes = [f"{n['at']:%Y-%m-%d %H:%M} {n['author']}: {n['body']}" for n in wo["notes"]]
    story += [Spacer(1, 8), Paragraph("Notes 备注", body)]
    story += [Paragraph(escape(n), body) for n in notes] or [Paragraph("-", body)]
    return _pdf(wo["number"], story)


async def monthly(pool: Pool, tenant_id: str, period: str, actor: Actor) -> dict[str, Any]:
    """A tenant's month: alerts, work orders, MTTA/MTTR and SLA compliance."""
    if actor.tenant_id is not None and actor.tenant_id != tenant_id:
        raise NotFound(f"tenant {tenant_id} not found")
    async with pool.acquire() as conn:
        zone = await places.zone(conn, tenant_id)
        if zone is None:
            raise NotFound(f"tenant {tenant_id} not found")
        start, end = period_bounds(period, zone)
        rows = await timeline.month_rows(conn, [tenant_id], start, end)
    alerts = await _alerts(pool, tenant_id, start, end)
    verdicts = timeline.evaluate(rows, min(clock.now(), end))
    facts = [_facts(r, verdicts[r["id"]]) for r in rows]
    return {
        "tenant_id": tenant_id,
        "period": period,
        "alerts": alerts,
        "work_orders": asdict(summarize(facts)),
        "orders": [
            {
                k: r[k]
                for k in (
                    "number",
                    "title",
                    "priority",
                    "state",
                    "created_at",
                    "completed_at",
                    "response_breach",
                    "resolution_breach",
                )
            }
            for r in rows
        ],
    }


def _facts(r: Any, breaches: tuple[float | None, float | None]) -> OrderFacts:
    return OrderFacts(
        state=r["state"],
        created_at=r["created_at"],
        accepted_at=r["accepted_at"],
        completed_at=r["completed_at"],
        response_breach=breaches[0],
        resolution_breach=breaches[1],
    )


async def _alerts(pool: Pool, tenant_id: str, start: Any, end: Any) -> dict[str, int]:
    """Alerts whose evidence began in the month, by severity (through the alert service)."""
    from analytics.alerts import service as alerts
    from analytics.alerts.models import AlertFilter

    counts: dict[str, int] = {}
    cursor: int | None = None
    while True:
        items, cursor = await alerts.list_alerts(
            pool,
            AlertFilter(tenant_id=tenant_id, since=start, until=end, before_id=cursor, limit=500),
        )
        for a in items:
            if start <= a["first_ts"] < end:
                counts[a["severity"]] = counts.get(a["severity"], 0) + 1
        if cursor is None:
            return counts


def monthly_pdf(report: dict[str, Any]) -> bytes:
    """The monthly service report as PDF."""
    body, title = _styles()
    s = report["work_orders"]
    figures = [[k.replace("_", " "), "-" if v is None else v] for k, v in s.items()]
    alerts = [[sev, n] for sev, n in sorted(report["alerts"].items())] or [["none", 0]]
    orders = [["Number", "Title", "State", "Response breach", "Resolution breach"]] + [
        [
            o["number"],
            o["title"][:60],
            o["state"],
            o["response_breach"] or 0,
            o["resolution_breach"] or 0,
        ]
        for o in report["orders"]
    ]
    story: list[Any] = [
        Paragraph(
            f"Monthly service report 月度服务报告 {escape(report['tenant_id'])} "
            f"{escape(report['period'])}",
            title,
        ),
        Spacer(1, 8),
        Paragraph("Alerts 告警", body),
        _table(alerts, body),
        Spacer(1, 8),
        Paragraph("Work orders 工单", body),
        _table(figures, body),
        Spacer(1, 8),
        _table(orders, body),
    ]
    return _pdf(f"{report['tenant_id']} {report['period']}", story)
