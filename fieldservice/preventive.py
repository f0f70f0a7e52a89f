"""Preventive maintenance: a contract's schedules (e.g. a quarterly robot inspection) become
work orders ahead of their due dates. Planned visits carry no response/resolution clocks."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fieldservice import clock, places
from fieldservice import repository as repo
from fieldservice.models import NotFound, check_priority
from fieldservice.service import NewOrder, checked_place, create_in
from servitize.db import Connection, Pool, transaction

ACTOR = "fieldservice:preventive"
VISIT_AT = time(9)  # planned start, tenant's local time

_DUE = """
SELECT s.*, c.tenant_id, c.end_date AS contract_end
FROM fs_schedules s JOIN fs_contracts c ON c.id = s.contract_id
WHERE s.active AND s.next_due <= $1 ORDER BY s.id FOR UPDATE OF s SKIP LOCKED
"""


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def due_dates(
    first: date, every_months: int, until: date, end: date | None, today: date | None = None
) -> list[date]:
    """Due dates from `first` up to `until` (inclusive), before the contract's end; dates
    already past `today` are missed visits and are not generated afterwards."""
    out: list[date] = []
    due = first
    while today is not None and due < today:
        due = add_months(due, every_months)
    while due <= until and (end is None or due < end):
        out.append(due)
        due = add_months(due, every_months)
    return out


async def create_schedule(pool: Pool, fields: dict[str, Any]) -> dict[str, Any]:
    """A preventive schedule of a contract, for one of its tenant's devices or sites."""
    check_priority(fields.get("priority", "p4"))
    async with transaction(pool) as conn:
        tenant = await conn.fetchval(
            "SELECT tenant_id FROM fs_contracts WHERE id = $1", fields["contract_id"]
        )
        if tenant is None:
            raise NotFound(f"contract {fields['contract_id']} not found")
        await checked_place(conn, tenant, fields.get("device_id"), fields.get("site_id"))
        return dict(await repo.insert(conn, "fs_schedules", fields))


async def generate(pool: Pool, ahead_days: int = 30) -> list[str]:
    """Create the work orders due within `ahead_days`; returns their numbers (idempotent)."""
    if not 0 <= ahead_days <= 366:
        raise ValueError("ahead_days must be 0..366")
    today = clock.now().date()
    horizon = today + timedelta(days=ahead_days)
    made: list[str] = []
    async with transaction(pool) as conn:
        due_now = await conn.fetch(_DUE, horizon)
        zones = await places.zones(conn, sorted({s["tenant_id"] for s in due_now}))
        for s in due_now:
            dues = due_dates(s["next_due"], s["every_months"], horizon, s["contract_end"], today)
            for due in dues:
                made.append(await _visit(conn, s, due, zones[s["tenant_id"]]))
            following = add_months(dues[-1], s["every_months"]) if dues else s["next_due"]
            while following <= horizon:  # only past dates were left: skip them too
                following = add_months(following, s["every_months"])
            await repo.update(
                conn,
                "fs_schedules",
                ("id", s["id"]),
                {
                    "next_due": following,
                    "active": s["contract_end"] is None or following < s["contract_end"],
                },
            )
    return made


async def _visit(conn: Connection, s: Any, due: date, zone: str) -> str:
    new = NewOrder(
        tenant_id=s["tenant_id"],
        title=s["title"],
        priority=s["priority"],
        source="preventive",
        device_id=s["device_id"],
        site_id=s["site_id"],
        schedule_id=s["id"],
        due_date=due,
        scheduled_for=datetime.combine(due, VISIT_AT, ZoneInfo(zone)),
    )
    return str((await create_in(conn, new, ACTOR))["number"])
