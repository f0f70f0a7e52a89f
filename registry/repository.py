"""Registry SQL. Repositories never commit: the caller's transaction does."""

from __future__ import annotations

from typing import Any

from registry.models import Device, DeviceType, MetricSpec, Site, Tenant
from servitize.db import Connection


async def upsert_tenant(conn: Connection, t: Tenant) -> None:
    """Create or update a tenant."""
    await conn.execute(
        """INSERT INTO tenants (id, name, timezone, tax_id, address) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE SET name = $2, timezone = $3, tax_id = $4, address = $5""",
        t.id,
        t.name,
        t.timezone,
        t.tax_id,
        t.address,
    )


async def upsert_site(conn: Connection, s: Site) -> None:
    """Create or update a site."""
    await conn.execute(
        """INSERT INTO sites (id, tenant_id, name, kind, latitude, longitude)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET name = $3, kind = $4, latitude = $5, longitude = $6""",
        s.id,
        s.tenant_id,
        s.name,
        s.kind,
        s.latitude,
        s.longitude,
    )


async def upsert_device_type(conn: Connection, dt: DeviceType) -> None:
    """Create or update a device type and replace its metric catalog."""
    await conn.execute(
        """INSERT INTO device_types
           (id, name, description, reporting_interval_s, offline_after_intervals, detection)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE
           SET name = $2, description = $3, reporting_interval_s = $4,
               offline_after_intervals = $5, detection = $6""",
        dt.id,
        dt.name,
        dt.description,
        dt.reporting_interval_s,
        dt.offline_after_intervals,
        dict(dt.detection),
    )
    await conn.execute("DELETE FROM device_type_metrics WHERE device_type_id = $1", dt.id)
    await conn.executemany(
        """INSERT INTO device_type_metrics
           (device_type_id, metric, unit, min_value, max_value, description)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(dt.id, m.name, m.unit, m.min_value, m.max_value, m.description) for m in dt.metrics],
    )


async def upsert_device(conn: Connection, d: Device, credential_hash: str | None) -> None:
    """Create or update a device (a None hash keeps the stored credential)."""
    await conn.execute(
        """INSERT INTO devices (id, device_type_id, tenant_id, site_id, name, serial_number,
                                credential_hash, enabled)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE
           SET device_type_id = $2, tenant_id = $3, site_id = $4, name = $5, serial_number = $6,
               credential_hash = coalesce($7, devices.credential_hash), enabled = $8,
               updated_at = now()""",
        d.id,
        d.device_type_id,
        d.tenant_id,
        d.site_id,
        d.name,
        d.serial_number,
        credential_hash,
        d.enabled,
    )


async def set_credential(conn: Connection, device_id: str, credential_hash: str) -> bool:
    """Replace a device's credential; False if no such device."""
    status = await conn.execute(
        "UPDATE devices SET credential_hash = $2, updated_at = now() WHERE id = $1",
        device_id,
        credential_hash,
    )
    return status.endswith(" 1")


async def load_device_types(conn: Connection) -> dict[str, DeviceType]:
    """Every device type with its catalog."""
    types = await conn.fetch("SELECT * FROM device_types ORDER BY id")
    metrics = await conn.fetch("SELECT * FROM device_type_metrics ORDER BY device_type_id, metric")
    by_type: dict[str, list[MetricSpec]] = {}
    for m in metrics:
        by_type.setdefault(m["device_type_id"], []).append(
            MetricSpec(m["metric"], m["unit"], m["min_value"], m["max_value"], m["description"])
        )
    return {
        t["id"]: DeviceType(
            t["id"],
            t["name"],
            t["reporting_interval_s"],
            tuple(by_type.get(t["id"], ())),
            t["description"],
            t["offline_after_intervals"],
            t["detection"],
        )
        for t in types
    }


async def load_devices(conn: Connection) -> list[dict[str, Any]]:
    """Every device's id, type, tenant and enabled flag (for ingest's cache)."""
    rows = await conn.fetch("SELECT id, device_type_id, tenant_id, enabled FROM devices")
    return [dict(r) for r in rows]


async def device_credentials(conn: Connection) -> list[tuple[str, str]]:
    """(device id, credential hash) for every enabled device with a credential."""
    rows = await conn.fetch(
        "SELECT id, credential_hash FROM devices "
        "WHERE enabled AND credential_hash IS NOT NULL ORDER BY id"
    )
    return [(r["id"], r["credential_hash"]) for r in rows]


# Reads other domains make through registry.service (they never query these tables).


async def placements(conn: Connection, ids: list[str] | None) -> list[Any]:
    """(id, tenant_id, site_id, device_type_id) of the given devices, or of all when None."""
    return await conn.fetch(
        "SELECT id, tenant_id, site_id, device_type_id FROM devices "
        "WHERE ($1::text[] IS NULL OR id = ANY($1))",
        ids,
    )


async def tenant_placements(conn: Connection, tenant_ids: list[str] | None) -> list[Any]:
    """(id, tenant_id, site_id) of the devices of some tenants (all when None)."""
    return await conn.fetch(
        "SELECT id, tenant_id, site_id FROM devices "
        "WHERE ($1::text[] IS NULL OR tenant_id = ANY($1))",
        tenant_ids,
    )


async def metric_specs(conn: Connection) -> list[Any]:
    """(device_type_id, metric, unit, min_value, max_value) of every catalog metric."""
    return await conn.fetch(
        "SELECT device_type_id, metric, unit, min_value, max_value FROM device_type_metrics"
    )


async def type_metric_names(conn: Connection, device_type: str) -> list[str]:
    """A type's metric names in name order."""
    rows = await conn.fetch(
        "SELECT metric FROM device_type_metrics WHERE device_type_id = $1 ORDER BY metric",
        device_type,
    )
    return [r["metric"] for r in rows]


async def reporting_intervals(conn: Connection) -> dict[str, int]:
    """Reporting interval in seconds per device type."""
    rows = await conn.fetch("SELECT id, reporting_interval_s FROM device_types")
    return {r["id"]: r["reporting_interval_s"] for r in rows}


async def type_policies(conn: Connection) -> list[Any]:
    """(id, reporting_interval_s, offline_after_intervals, detection) of every type."""
    return await conn.fetch(
        "SELECT id, reporting_interval_s, offline_after_intervals, detection FROM device_types"
    )


async def device_ids_of_type(conn: Connection, device_type: str) -> list[str]:
    """Ids of the devices of a type, in id order."""
    rows = await conn.fetch(
        "SELECT id FROM devices WHERE device_type_id = $1 ORDER BY id", device_type
    )
    return [r["id"] for r in rows]


async def existing_ids(conn: Connection, ids: list[str], *, enabled_only: bool) -> list[str]:
    """Those of the ids that are registered devices (and enabled, when asked), in id order."""
    rows = await conn.fetch(
        "SELECT id FROM devices WHERE id = ANY($1) AND (enabled OR NOT $2) ORDER BY id",
        ids,
        enabled_only,
    )
    return [r["id"] for r in rows]


async def foreign_devices(conn: Connection, tenant_id: str, device_ids: list[str]) -> list[str]:
    """Device ids that do not exist or belong to another tenant."""
    rows = await conn.fetch(
        """SELECT d FROM unnest($2::text[]) d WHERE NOT EXISTS
           (SELECT 1 FROM devices WHERE id = d AND tenant_id = $1)""",
        tenant_id,
        device_ids,
    )
    return [r["d"] for r in rows]


async def tenant_exists(conn: Connection, tenant_id: str) -> bool:
    """Whether the tenant is registered."""
    return bool(await conn.fetchval("SELECT 1 FROM tenants WHERE id = $1", tenant_id))


async def site_exists(conn: Connection, tenant_id: str, site_id: str) -> bool:
    """Whether the site is registered under this tenant."""
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM sites WHERE id = $1 AND tenant_id = $2", site_id, tenant_id
        )
    )


async def device_of_tenant(conn: Connection, tenant_id: str, device_id: str) -> bool:
    """Whether the device is registered under this tenant."""
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM devices WHERE id = $1 AND tenant_id = $2", device_id, tenant_id
        )
    )


async def tenant_details(conn: Connection, tenant_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Timezone, name, tax id and address per tenant."""
    rows = await conn.fetch(
        "SELECT id, timezone, name, tax_id, address FROM tenants WHERE id = ANY($1)", tenant_ids
    )
    return {r["id"]: dict(r) for r in rows}


async def tenant_timezones(conn: Connection, tenant_ids: list[str] | None) -> dict[str, str]:
    """Time zone per tenant (all tenants when None)."""
    rows = await conn.fetch(
        "SELECT id, timezone FROM tenants WHERE $1::text[] IS NULL OR id = ANY($1)", tenant_ids
    )
    return {r["id"]: r["timezone"] for r in rows}


async def site_locations(conn: Connection, site_ids: list[str]) -> list[Any]:
    """Tenant and coordinates of sites."""
    return await conn.fetch(
        "SELECT id, tenant_id, latitude, longitude FROM sites WHERE id = ANY($1::text[])", site_ids
    )
