"""SQL of the field-service set-up: calendars, technicians, parts, contracts, policies."""

from __future__ import annotations

from datetime import date
from typing import Any

from fieldservice.repository import Row
from servitize.db import Connection


async def upsert(conn: Connection, table: str, key: str, fields: dict[str, Any]) -> Row:
    """INSERT … ON CONFLICT (key) DO UPDATE, returning the row."""
    cols = list(fields)
    marks = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c != key)
    row = await conn.fetchrow(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {sets} RETURNING *",
        *fields.values(),
    )
    assert row is not None
    return row


async def all_rows(conn: Connection, table: str, order: str) -> list[Row]:
    """Every row of a set-up table."""
    return await conn.fetch(f"SELECT * FROM {table} ORDER BY {order}")


async def one(conn: Connection, table: str, key: str, value: Any) -> Row | None:
    """One row by key."""
    return await conn.fetchrow(f"SELECT * FROM {table} WHERE {key} = $1", value)


async def calendar_days(conn: Connection, calendar_id: str) -> list[Row]:
    """A calendar's holidays and make-up working days."""
    return await conn.fetch(
        "SELECT * FROM fs_calendar_days WHERE calendar_id = $1 ORDER BY day", calendar_id
    )


async def replace_year(
    conn: Connection, calendar_id: str, year: int, days: list[tuple[date, str, str]]
) -> None:
    """Replace one year's configured days of a calendar."""
    await conn.execute(
        "DELETE FROM fs_calendar_days WHERE calendar_id = $1 AND extract(year FROM day) = $2",
        calendar_id,
        year,
    )
    await conn.executemany(
        "INSERT INTO fs_calendar_days (calendar_id, day, kind, name) VALUES ($1, $2, $3, $4)",
        [(calendar_id, d, kind, name) for d, kind, name in days],
    )


async def technician_by_key(conn: Connection, key_id: str) -> Row | None:
    """The technician a `technician` API key belongs to."""
    return await conn.fetchrow("SELECT * FROM fs_technicians WHERE api_key_id = $1", key_id)


async def lock_technician(conn: Connection, technician_id: str) -> Row | None:
    """A technician row, locked (serializes its time entries)."""
    return await conn.fetchrow(
        "SELECT * FROM fs_technicians WHERE id = $1 FOR UPDATE", technician_id
    )


async def contracts(conn: Connection, tenant_id: str | None) -> list[Row]:
    """Contracts of a tenant (all when None)."""
    return await conn.fetch(
        "SELECT * FROM fs_contracts WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY id",
        tenant_id,
    )


async def matching_contract(
    conn: Connection, tenant_id: str, device_type: str | None, site_id: str | None, day: date
) -> Row | None:
    """The newest contract of the tenant in force on `day` covering the device type and site."""
    return await conn.fetchrow(
        "SELECT * FROM fs_contracts WHERE tenant_id = $1 AND start_date <= $4 "
        "AND (end_date IS NULL OR end_date > $4) "
        "AND (cardinality(device_types) = 0 OR $2 = ANY(device_types)) "
        "AND (cardinality(sites) = 0 OR $3 = ANY(sites)) ORDER BY id DESC LIMIT 1",
        tenant_id,
        device_type,
        site_id,
        day,
    )


async def matching_policy(
    conn: Connection, tenant_id: str, rule: str, device_type: str, severities: list[str]
) -> Row | None:
    """The most specific enabled policy for an alert (tenant, rule, type beat wildcards)."""
    return await conn.fetchrow(
        "SELECT * FROM fs_policies WHERE enabled AND (tenant_id IS NULL OR tenant_id = $1) "
        "AND (rule IS NULL OR rule = $2) AND (device_type IS NULL OR device_type = $3) "
        "AND min_severity = ANY($4::text[]) "
        "ORDER BY (tenant_id IS NOT NULL) DESC, (rule IS NOT NULL) DESC, "
        "(device_type IS NOT NULL) DESC, id LIMIT 1",
        tenant_id,
        rule,
        device_type,
        severities,
    )


async def policies(conn: Connection, tenant_id: str | None) -> list[Row]:
    """Policies visible to a scope (the provider's wildcards too)."""
    return await conn.fetch(
        "SELECT * FROM fs_policies WHERE $1::text IS NULL OR tenant_id IS NULL "
        "OR tenant_id = $1 ORDER BY id",
        tenant_id,
    )


async def schedules(conn: Connection, tenant_id: str | None) -> list[Row]:
    """Preventive schedules of a tenant's contracts (all when None)."""
    return await conn.fetch(
        "SELECT s.* FROM fs_schedules s JOIN fs_contracts c ON c.id = s.contract_id "
        "WHERE $1::text IS NULL OR c.tenant_id = $1 ORDER BY s.id",
        tenant_id,
    )
