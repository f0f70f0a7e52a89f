"""SQL of the API's tenant, site and device objects: pages, one object, single-object writes.

Each statement names its table; column names come from fixed tuples, never from a request.
Like every repository it never commits: registry.objects_service owns the transactions.
"""

from __future__ import annotations

from typing import Any

from servitize.db import Connection

# Connection state from the device_presence view: the status topic (Last Will) and silence
# longer than three reporting intervals both make a device offline.
_DEVICE = """SELECT d.id, d.device_type_id, d.tenant_id, d.site_id, d.name, d.serial_number,
       d.enabled, d.created_at, d.updated_at, p.presence,
       CASE p.presence WHEN 'never_seen' THEN NULL ELSE p.presence = 'online' END AS online,
       p.status_changed_at, p.last_seen_at, p.last_reading_ts
  FROM devices d JOIN device_presence p ON p.device_id = d.id"""
# Columns a create or a PATCH may set: names are never taken from the request itself.
TENANT_COLUMNS = ("id", "name", "timezone", "tax_id", "address")
SITE_COLUMNS = ("id", "tenant_id", "name", "kind", "latitude", "longitude")
DEVICE_COLUMNS = (
    *("id", "device_type_id", "tenant_id", "site_id", "name", "serial_number", "enabled"),
    "credential_hash",
)
_FIXED = ("id", "tenant_id", "device_type_id", "credential_hash")


def _where(conds: dict[str, Any]) -> tuple[str, list[Any]]:
    """WHERE clause from {sql expression with a `{}` placeholder: value}, skipping Nones."""
    parts, args = [], []
    for expr, value in conds.items():
        if value is not None:
            args.append(value)
            parts.append(expr.format(f"${len(args)}"))
    return (" WHERE " + " AND ".join(parts)) if parts else "", args


async def _page(conn: Connection, base: str, conds: dict[str, Any], limit: int) -> list[Any]:
    where, args = _where(conds)
    sql = f"SELECT * FROM ({base}) q{where} ORDER BY id LIMIT {int(limit) + 1}"
    return [dict(r) for r in await conn.fetch(sql, *args)]


async def page_tenants(
    conn: Connection, tenant_id: str | None, after: str | None, limit: int
) -> Any:
    """Tenants by id (only one if tenant_id is given); limit+1 rows tell if more follow."""
    conds = {"id = {}": tenant_id, "id > {}": after}
    return await _page(conn, "SELECT * FROM tenants", conds, limit)


async def page_sites(conn: Connection, tenant_id: str | None, after: str | None, limit: int) -> Any:
    """Sites by id, optionally of one tenant."""
    return await _page(
        conn, "SELECT * FROM sites", {"tenant_id = {}": tenant_id, "id > {}": after}, limit
    )


async def page_devices(
    conn: Connection, filters: dict[str, Any], after: str | None, limit: int
) -> Any:
    """Devices with status; filters: tenant_id, site_id, device_type_id, online."""
    conds = {f"{k} = {{}}": filters.get(k) for k in ("tenant_id", "site_id", "device_type_id")}
    # A device never heard from counts as offline.
    conds["coalesce(online, false) = {}"] = filters.get("online")
    return await _page(conn, _DEVICE, conds | {"id > {}": after}, limit)


async def tenant(conn: Connection, tenant_id: str) -> dict[str, Any] | None:
    """One tenant row."""
    row = await conn.fetchrow("SELECT * FROM tenants WHERE id = $1", tenant_id)
    return dict(row) if row else None


async def site(conn: Connection, site_id: str) -> dict[str, Any] | None:
    """One site row."""
    row = await conn.fetchrow("SELECT * FROM sites WHERE id = $1", site_id)
    return dict(row) if row else None


async def device(conn: Connection, device_id: str) -> dict[str, Any] | None:
    """One device with its connection state."""
    row = await conn.fetchrow(f"SELECT * FROM ({_DEVICE}) q WHERE id = $1", device_id)
    return dict(row) if row else None


def _columns(values: dict[str, Any], allowed: tuple[str, ...]) -> tuple[str, str, list[Any]]:
    """(column list, $n placeholders, arguments) for the allowed columns present in values."""
    cols = [c for c in allowed if c in values]
    marks = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    return ", ".join(cols), marks, [values[c] for c in cols]


async def insert_tenant(conn: Connection, values: dict[str, Any]) -> None:
    """Insert a tenant (UniqueViolationError if the id is taken)."""
    cols, marks, args = _columns(values, TENANT_COLUMNS)
    await conn.execute(f"INSERT INTO tenants ({cols}) VALUES ({marks})", *args)


async def insert_site(conn: Connection, values: dict[str, Any]) -> None:
    """Insert a site (UniqueViolationError, ForeignKeyViolationError for a missing tenant)."""
    cols, marks, args = _columns(values, SITE_COLUMNS)
    await conn.execute(f"INSERT INTO sites ({cols}) VALUES ({marks})", *args)


async def insert_device(conn: Connection, values: dict[str, Any]) -> None:
    """Insert a device (UniqueViolationError, ForeignKeyViolationError for a missing reference)."""
    cols, marks, args = _columns(values, DEVICE_COLUMNS)
    await conn.execute(f"INSERT INTO devices ({cols}) VALUES ({marks})", *args)


def _sets(values: dict[str, Any], allowed: tuple[str, ...]) -> tuple[str, list[Any]]:
    """`col = $2, ...` for the patchable columns present in values ($1 is the id)."""
    cols = [c for c in allowed if c in values and c not in _FIXED]
    return ", ".join(f"{c} = ${i}" for i, c in enumerate(cols, start=2)), [values[c] for c in cols]


async def update_tenant(conn: Connection, tenant_id: str, values: dict[str, Any]) -> None:
    """Set a tenant's name, time zone, tax id or address."""
    sets, args = _sets(values, TENANT_COLUMNS)
    if sets:
        await conn.execute(f"UPDATE tenants SET {sets} WHERE id = $1", tenant_id, *args)


async def update_site(conn: Connection, site_id: str, values: dict[str, Any]) -> None:
    """Set a site's name, kind or position."""
    sets, args = _sets(values, SITE_COLUMNS)
    if sets:
        await conn.execute(f"UPDATE sites SET {sets} WHERE id = $1", site_id, *args)


async def update_device(conn: Connection, device_id: str, values: dict[str, Any]) -> None:
    """Set a device's name, site, serial number or enabled flag."""
    sets, args = _sets(values, DEVICE_COLUMNS)
    if sets:
        sql = f"UPDATE devices SET {sets}, updated_at = now() WHERE id = $1"
        await conn.execute(sql, device_id, *args)


async def delete_site(conn: Connection, site_id: str) -> bool:
    """Delete a site (ForeignKeyViolationError while devices are on it)."""
    return str(await conn.execute("DELETE FROM sites WHERE id = $1", site_id)).endswith(" 1")


async def delete_device(conn: Connection, device_id: str) -> bool:
    """Delete a device (ForeignKeyViolationError while records refer to it)."""
    return str(await conn.execute("DELETE FROM devices WHERE id = $1", device_id)).endswith(" 1")


async def site_tenant(conn: Connection, site_id: str) -> str | None:
    """The tenant a site belongs to (None if no such site)."""
    owner: str | None = await conn.fetchval("SELECT tenant_id FROM sites WHERE id = $1", site_id)
    return owner


async def device_type_exists(conn: Connection, type_id: str) -> bool:
    """Whether the device type exists."""
    return bool(await conn.fetchval("SELECT 1 FROM device_types WHERE id = $1", type_id))
