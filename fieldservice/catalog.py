"""Field-service set-up use cases: calendars, technicians, the price list, contracts, dispatch
policies, and who a caller is. Each public function is one transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from fieldservice import catalog_repository as crepo
from fieldservice.models import (
    Actor,
    NotFound,
    calendar_of,
    check_part_no,
    check_priority,
    parse_targets,
    parse_tiers,
)
from fieldservice.workcalendar import BusinessCalendar
from registry import service as registry
from servitize.db import Connection, Pool, transaction

SEVERITIES = ("info", "warning", "major", "critical")


async def actor_for(pool: Pool, key_id: str, role: str, tenant_id: str | None) -> Actor:
    """The acting party of an API key; a technician key must be linked to a technician."""
    tech: str | None = None
    if role == "technician":
        async with pool.acquire() as conn:
            row = await crepo.technician_by_key(conn, key_id)
        if row is None:
            raise NotFound("this technician key is not linked to a technician")
        tech = row["id"]
    return Actor(name=f"key:{key_id}", role=role, tenant_id=tenant_id, technician_id=tech)


async def save_calendar(pool: Pool, fields: dict[str, Any]) -> dict[str, Any]:
    """Create or update a calendar's working hours and weekdays (ISO 1..7)."""
    BusinessCalendar(
        start=fields["work_start"],
        end=fields["work_end"],
        weekdays=frozenset(d - 1 for d in fields["weekdays"]),
    )
    async with transaction(pool) as conn:
        return dict(await crepo.upsert(conn, "fs_calendars", "id", fields))


async def set_calendar_year(
    pool: Pool, calendar_id: str, year: int, holidays: list[date], workdays: list[date]
) -> dict[str, Any]:
    """Replace a year's public holidays and make-up working days."""
    if any(d.year != year for d in [*holidays, *workdays]):
        raise ValueError(f"every day must lie in {year}")
    if set(holidays) & set(workdays):
        raise ValueError("a day cannot be both a holiday and a make-up workday")
    days = [(d, "holiday", "") for d in holidays] + [(d, "workday", "") for d in workdays]
    async with transaction(pool) as conn:
        if await crepo.one(conn, "fs_calendars", "id", calendar_id) is None:
            raise NotFound(f"calendar {calendar_id} not found")
        await crepo.replace_year(conn, calendar_id, year, days)
        rows = await crepo.calendar_days(conn, calendar_id)
    return {"id": calendar_id, "days": [dict(r) for r in rows]}


async def load_calendar(conn: Connection, calendar_id: str, timezone: str) -> BusinessCalendar:
    """A calendar with its days in a zone."""
    row = await crepo.one(conn, "fs_calendars", "id", calendar_id)
    if row is None:
        raise NotFound(f"calendar {calendar_id} not found")
    return calendar_of(row, list(await crepo.calendar_days(conn, calendar_id)), timezone)


async def save_technician(pool: Pool, fields: dict[str, Any]) -> dict[str, Any]:
    """Create or update a technician (skills, sites covered, base coordinates, key)."""
    key = fields.get("api_key_id")
    if key is not None:
        from api import service as keys

        roles = {k.id: k.role for k in await keys.list_keys(pool)}
        if roles.get(key) != "technician":
            raise ValueError(f"api key {key} is not a technician key")
    async with transaction(pool) as conn:
        return dict(await crepo.upsert(conn, "fs_technicians", "id", fields))


async def save_part(pool: Pool, fields: dict[str, Any]) -> dict[str, Any]:
    """Create or update a price-list entry."""
    check_part_no(fields["part_no"])
    if fields["unit_price"] < 0:
        raise ValueError("a part's price must not be negative")
    async with transaction(pool) as conn:
        return dict(await crepo.upsert(conn, "fs_parts", "part_no", fields))


async def create_contract(pool: Pool, fields: dict[str, Any]) -> dict[str, Any]:
    """A service contract for a tenant (optionally tied to its subscription)."""
    from fieldservice.repository import insert

    parse_targets(fields["priorities"])
    parse_tiers(fields.get("credit_tiers", []))
    sub = fields.get("subscription_id")
    if sub is not None:
        from billing import service as billing

        if sub not in {
            s["id"] for s in await billing.list_subscriptions(pool, fields["tenant_id"])
        }:
            raise NotFound(f"subscription {sub} not found")
    async with transaction(pool) as conn:
        if not await registry.tenant_exists(conn, fields["tenant_id"]):
            raise NotFound(f"tenant {fields['tenant_id']} not found")
        calendar = fields.get("calendar_id", "default")
        if await crepo.one(conn, "fs_calendars", "id", calendar) is None:
            raise NotFound(f"calendar {calendar} not found")
        return dict(await insert(conn, "fs_contracts", fields))


async def create_policy(pool: Pool, fields: dict[str, Any]) -> dict[str, Any]:
    """A dispatch policy: alerts of a rule/severity/device type open a work order."""
    from fieldservice.repository import insert

    check_priority(fields["priority"])
    if fields.get("min_severity", "major") not in SEVERITIES:
        raise ValueError(f"min_severity must be one of {', '.join(SEVERITIES)}")
    async with transaction(pool) as conn:
        return dict(await insert(conn, "fs_policies", fields))


async def listing(pool: Pool, what: str, tenant_id: str | None = None) -> list[dict[str, Any]]:
    """technicians | parts | calendars | contracts | policies."""
    async with pool.acquire() as conn:
        if what == "contracts":
            rows = await crepo.contracts(conn, tenant_id)
        elif what == "policies":
            rows = await crepo.policies(conn, tenant_id)
        elif what == "schedules":
            rows = await crepo.schedules(conn, tenant_id)
        else:
            table, order = {
                "technicians": ("fs_technicians", "id"),
                "parts": ("fs_parts", "part_no"),
                "calendars": ("fs_calendars", "id"),
            }[what]
            rows = await crepo.all_rows(conn, table, order)
    return [dict(r) for r in rows]
