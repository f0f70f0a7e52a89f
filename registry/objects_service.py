"""The API's use cases on tenants, sites and devices; each owns its transaction.

Constraint violations come back as the shared domain errors: a taken id is Conflict, a missing
reference Invalid, deleting something still referenced Conflict.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from registry import credentials, repository
from registry import objects_repository as objects
from registry.models import DeviceType, ReservedNameError, check_not_reserved
from servitize.db import Connection, Pool, transaction
from servitize.errors import Conflict, Invalid

# Columns a PATCH may not set to null.
REQUIRED = frozenset({"name", "timezone", "enabled"})


async def list_tenants(pool: Pool, tenant_id: str | None, after: str | None, limit: int) -> Any:
    """Tenants by id (only one if tenant_id is given); limit+1 rows tell if more follow."""
    async with pool.acquire() as conn:
        return await objects.page_tenants(conn, tenant_id, after, limit)


async def list_sites(pool: Pool, tenant_id: str | None, after: str | None, limit: int) -> Any:
    """Sites by id, optionally of one tenant."""
    async with pool.acquire() as conn:
        return await objects.page_sites(conn, tenant_id, after, limit)


async def list_devices(pool: Pool, filters: dict[str, Any], after: str | None, limit: int) -> Any:
    """Devices with status; filters: tenant_id, site_id, device_type_id, online."""
    async with pool.acquire() as conn:
        return await objects.page_devices(conn, filters, after, limit)


async def get_tenant(pool: Pool, tenant_id: str) -> dict[str, Any] | None:
    """One tenant."""
    async with pool.acquire() as conn:
        return await objects.tenant(conn, tenant_id)


async def get_site(pool: Pool, site_id: str) -> dict[str, Any] | None:
    """One site."""
    async with pool.acquire() as conn:
        return await objects.site(conn, site_id)


async def get_device(pool: Pool, device_id: str) -> dict[str, Any] | None:
    """One device with its connection state."""
    async with pool.acquire() as conn:
        return await objects.device(conn, device_id)


@asynccontextmanager
async def _writing(pool: Pool, kind: str, object_id: str) -> AsyncIterator[Connection]:
    """A transaction whose constraint violations become Conflict (taken) or Invalid."""
    try:
        async with transaction(pool) as conn:
            yield conn
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"{kind} {object_id} already exists") from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise Invalid(exc.detail or str(exc)) from exc


async def create_tenant(pool: Pool, values: dict[str, Any]) -> None:
    """Create a tenant; Conflict if the id is taken."""
    async with _writing(pool, "tenant", values["id"]) as conn:
        await objects.insert_tenant(conn, values)


async def create_site(pool: Pool, values: dict[str, Any]) -> None:
    """Create a site; Conflict if the id is taken, Invalid if its tenant is missing."""
    async with _writing(pool, "site", values["id"]) as conn:
        await objects.insert_site(conn, values)


async def create_device(pool: Pool, values: dict[str, Any]) -> str:
    """Register a new device; returns its MQTT password (shown once)."""
    try:
        check_not_reserved(values["id"])
    except ReservedNameError as exc:
        raise Conflict(str(exc)) from None  # 409: the name belongs to a service account
    await check_site(pool, values.get("site_id"), values["tenant_id"])
    password = credentials.new_password()
    values = values | {"credential_hash": credentials.hash_password(password)}
    async with _writing(pool, "device", values["id"]) as conn:
        await objects.insert_device(conn, values)
    return password


async def update_tenant(pool: Pool, tenant_id: str, values: dict[str, Any]) -> None:
    """Change a tenant's patchable fields."""
    async with transaction(pool) as conn:
        await objects.update_tenant(conn, tenant_id, values)


async def update_site(pool: Pool, site_id: str, values: dict[str, Any]) -> None:
    """Change a site's patchable fields."""
    async with transaction(pool) as conn:
        await objects.update_site(conn, site_id, values)


async def update_device(pool: Pool, device_id: str, values: dict[str, Any]) -> None:
    """Change a device's patchable fields."""
    async with transaction(pool) as conn:
        await objects.update_device(conn, device_id, values)


@asynccontextmanager
async def _deleting(pool: Pool) -> AsyncIterator[Connection]:
    try:
        async with transaction(pool) as conn:
            yield conn
    except asyncpg.ForeignKeyViolationError as exc:
        raise Conflict(f"still in use: {exc.detail or exc}") from exc


async def delete_site(pool: Pool, site_id: str) -> bool:
    """Delete a site; Conflict while devices are on it."""
    async with _deleting(pool) as conn:
        return await objects.delete_site(conn, site_id)


async def delete_device(pool: Pool, device_id: str) -> bool:
    """Delete a device; Conflict while other records refer to it."""
    async with _deleting(pool) as conn:
        return await objects.delete_device(conn, device_id)


async def device_types(pool: Pool) -> list[DeviceType]:
    """Every device type with its catalog."""
    async with pool.acquire() as conn:
        return list((await repository.load_device_types(conn)).values())


async def create_device_type(pool: Pool, dt: DeviceType) -> None:
    """Register a new device type; Conflict if the id is taken."""
    async with transaction(pool) as conn:
        if await objects.device_type_exists(conn, dt.id):
            raise Conflict(f"device type {dt.id} already exists")
        await repository.upsert_device_type(conn, dt)


async def check_site(pool: Pool, site_id: str | None, tenant_id: str) -> None:
    """Invalid unless the site is absent or belongs to the tenant."""
    if site_id is None:
        return
    async with pool.acquire() as conn:
        owner = await objects.site_tenant(conn, site_id)
    if owner != tenant_id:
        raise Invalid(f"site {site_id} does not exist for tenant {tenant_id}")
