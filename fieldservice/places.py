"""Where things are, read through the registry's service: a device's tenant, site and type, a
site's coordinates, a tenant's time zone."""

from __future__ import annotations

from dataclasses import dataclass

from registry import service as registry
from servitize.db import Connection


@dataclass(frozen=True, kw_only=True)
class Place:
    """A device's or a site's tenant, site, device type and the site's coordinates."""

    tenant_id: str
    site_id: str | None
    device_type: str | None = None
    latitude: float | None = None
    longitude: float | None = None


async def of_site(conn: Connection, site_id: str) -> Place | None:
    """A site's tenant and coordinates."""
    found = (await registry.site_locations(conn, [site_id])).get(site_id)
    if found is None:
        return None
    tenant, lat, lon = found
    return Place(tenant_id=tenant, site_id=site_id, latitude=lat, longitude=lon)


async def of_device(conn: Connection, device_id: str) -> Place | None:
    """A device's tenant, site, type and its site's coordinates."""
    rows = await registry.device_placements(conn, [device_id])
    if not rows:
        return None
    _, tenant, site, device_type = rows[0]
    where = await of_site(conn, site) if site else None
    return Place(tenant_id=tenant, site_id=site, device_type=device_type,
                 latitude=where.latitude if where else None,
                 longitude=where.longitude if where else None)  # fmt: skip


async def zones(conn: Connection, tenant_ids: list[str] | None) -> dict[str, str]:
    """Time zone per tenant (all when None)."""
    return await registry.tenant_timezones(conn, tenant_ids)


async def zone(conn: Connection, tenant_id: str) -> str | None:
    """A tenant's time zone, None when there is no such tenant."""
    return (await zones(conn, [tenant_id])).get(tenant_id)
