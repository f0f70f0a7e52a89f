"""Registry reads and single-object writes for the API; each write owns its transaction."""

from __future__ import annotations

from typing import Any

import asyncpg

from registry import credentials, repository, service
from registry.models import DeviceType, MetricSpec, ReservedNameError, check_not_reserved
from servitize.db import Pool, transaction

# Connection state from the device_presence view: the status topic (Last Will) and silence
# longer than three reporting intervals both make a device offline.
_DEVICE = """SELECT d.id, d.device_type_id, d.tenant_id, d.site_id, d.name, d.serial_number,
       d.enabled, d.created_at, d.updated_at, p.presence,
       CASE p.presence WHEN 'never_seen' THEN NULL ELSE p.presence = 'online' END AS online,
       p.status_changed_at, p.last_seen_at, p.last_reading_ts
  FROM devices d JOIN device_presence p ON p.device_id = d.id"""
# Columns that may not be set to null.
REQUIRED = frozenset({"name", "timezone", "enabled"})
# Columns a PATCH may set, per table: names are never taken from the request itself.
_PATCHABLE = {
    "tenants": ("name", "timezone", "tax_id", "address"),
    "sites": ("name", "kind", "latitude", "longitude"),
    "devices": ("name", "site_id", "enabled", "serial_number"),
}


class AlreadyExists(Exception):
    """An object with this id exists."""


class Invalid(Exception):
    """The request refers to something missing or inconsistent."""


class InUse(Exception):
    """The object is still referenced and cannot be deleted."""


def _filters(conds: dict[str, Any]) -> tuple[str, list[Any]]:
    """WHERE clause from {sql expression with a `{}` placeholder: value}, skipping Nones."""
    parts, args = [], []
    for expr, value in conds.items():
        if value is not None:
            args.append(value)
            parts.append(expr.format(f"${len(args)}"))
    return (" WHERE " + " AND ".join(parts)) if parts else "", args


async def _page(pool: Pool, base: str, conds: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    where, args = _filters(conds)
    sql = f"SELECT * FROM ({base}) q{where} ORDER BY id LIMIT {int(limit) + 1}"
    async with pool.acquire() as conn:
        return [dict(r) for r in await conn.fetch(sql, *args)]


async def list_tenants(pool: Pool, tenant_id: str | None, after: str | None, limit: int) -> Any:
    """Tenants by id (only one if tenant_id is given); limit+1 rows tell if more follow."""
    conds = {"id = {}": tenant_id, "id > {}": after}
    return await _page(pool, "SELECT * FROM tenants", conds, limit)


async def list_sites(pool: Pool, tenant_id: str | None, after: str | None, limit: int) -> Any:
    """Sites by id, optionally of one tenant."""
    conds = {"tenant_id = {}": tenant_id, "id > {}": after}
    return await _page(pool, "SELECT * FROM sites", conds, limit)


async def list_devices(pool: Pool, filters: dict[str, Any], after: str | None, limit: int) -> Any:
    """Devices with status; filters: tenant_id, site_id, device_type_id, online."""
    conds = {f"{k} = {{}}": filters.get(k) for k in ("tenant_id", "site_id", "device_type_id")}
    # A device never heard from counts as offline.
    conds["coalesce(online, false) = {}"] = filters.get("online")
    return await _page(pool, _DEVICE, conds | {"id > {}": after}, limit)


async def get_one(pool: Pool, table: str, object_id: str) -> dict[str, Any] | None:
    """One tenant, site or device (with status) by id."""
    base = _DEVICE if table == "devices" else f"SELECT * FROM {table}"
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT * FROM ({base}) q WHERE id = $1", object_id)
    return dict(row) if row else None


async def insert(pool: Pool, table: str, values: dict[str, Any]) -> None:
    """Insert a tenant or site; AlreadyExists or Invalid (a missing reference) on failure."""
    cols = ", ".join(values)
    marks = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    try:
        async with transaction(pool) as conn:
            await conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", *values.values())
    except asyncpg.UniqueViolationError as exc:
        raise AlreadyExists(f"{table[:-1]} {values['id']} already exists") from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise Invalid(exc.detail or str(exc)) from exc


async def update(pool: Pool, table: str, object_id: str, values: dict[str, Any]) -> bool:
    """Set the given columns; False if no such object."""
    values = {k: v for k, v in values.items() if k in _PATCHABLE[table]}
    if not values:
        return await get_one(pool, table, object_id) is not None
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=2))
    if table == "devices":
        sets += ", updated_at = now()"
    async with transaction(pool) as conn:
        status = await conn.execute(
            f"UPDATE {table} SET {sets} WHERE id = $1", object_id, *values.values()
        )
    return str(status).endswith(" 1")


async def delete(pool: Pool, table: str, object_id: str) -> bool:
    """Delete a site or device; InUse if something still refers to it."""
    try:
        async with transaction(pool) as conn:
            status = await conn.execute(f"DELETE FROM {table} WHERE id = $1", object_id)
    except asyncpg.ForeignKeyViolationError as exc:
        raise InUse(exc.detail or str(exc)) from exc
    return str(status).endswith(" 1")


async def device_types(pool: Pool) -> list[DeviceType]:
    """Every device type with its catalog."""
    async with pool.acquire() as conn:
        return list((await repository.load_device_types(conn)).values())


async def create_device_type(pool: Pool, dt: DeviceType) -> None:
    """Register a new device type; AlreadyExists if the id is taken."""
    async with transaction(pool) as conn:
        taken = await conn.fetchval("SELECT 1 FROM device_types WHERE id = $1", dt.id)
        if taken:
            raise AlreadyExists(f"device type {dt.id} already exists")
        await repository.upsert_device_type(conn, dt)


def metric_spec(m: dict[str, Any]) -> MetricSpec:
    """A catalog entry from request fields."""
    return MetricSpec(m["name"], m["unit"], m["min_value"], m["max_value"], m["description"])


async def check_site(pool: Pool, site_id: str | None, tenant_id: str) -> None:
    """Invalid unless the site is absent or belongs to the tenant."""
    if site_id is None:
        return
    async with pool.acquire() as conn:
        owner = await conn.fetchval("SELECT tenant_id FROM sites WHERE id = $1", site_id)
    if owner != tenant_id:
        raise Invalid(f"site {site_id} does not exist for tenant {tenant_id}")


async def create_device(pool: Pool, values: dict[str, Any]) -> str:
    """Register a new device; returns its MQTT password (shown once)."""
    try:
        check_not_reserved(values["id"])
    except ReservedNameError as exc:
        raise AlreadyExists(str(exc)) from None  # 409: the name belongs to a service account
    await check_site(pool, values.get("site_id"), values["tenant_id"])
    password = credentials.new_password()
    values = values | {"credential_hash": credentials.hash_password(password)}
    try:
        await insert(pool, "devices", values)
    except AlreadyExists as exc:
        raise AlreadyExists(f"device {values['id']} already exists") from exc
    return password


async def rotate(pool: Pool, device_id: str) -> str | None:
    """A new MQTT password for a device (None if it does not exist)."""
    return await service.rotate_credential(pool, device_id)
