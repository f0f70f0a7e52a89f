"""Registry API: tenants, sites, device types, devices (tenant-scoped keys see their own)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel

from api import problems as p
from api.deps import PoolDep
from api.problems import Problem
from api.schemas import DEVICE_ID_PATTERN, MAX_PAGE, SLUG_PATTERN, Page
from api.security import Principal, Role, require_provider, require_role
from registry import objects_service as registry
from registry import service as registry_service
from registry.models import DeviceType, MetricSpec
from registry.schemas import (
    Credential,
    DeviceCreated,
    DeviceIn,
    DeviceOut,
    DevicePatch,
    DeviceTypeIn,
    DeviceTypeOut,
    MetricIn,
    SiteIn,
    SiteOut,
    SitePatch,
    TenantIn,
    TenantOut,
    TenantPatch,
)
from servitize.db import Pool

router = APIRouter(tags=["registry"])

Reader = Annotated[Principal, Depends(require_role())]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page size")]
After = Annotated[
    str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="cursor from next_cursor")
]
TenantQ = Annotated[str | None, Query(pattern=SLUG_PATTERN, description="only this tenant")]
Slug = Annotated[str, Path(pattern=SLUG_PATTERN)]
DevicePath = Annotated[str, Path(pattern=DEVICE_ID_PATTERN)]


def _page(rows: list[dict[str, Any]], limit: int, model: type[BaseModel]) -> Any:
    more = len(rows) > limit
    items = [model.model_validate(r) for r in rows[:limit]]
    return {"items": items, "next_cursor": rows[limit - 1]["id"] if more else None}


def _own_tenant(principal: Principal, tenant_id: str | None) -> str:
    """The tenant a new object goes to: the key's own; another tenant is 'not found'."""
    chosen = tenant_id or principal.tenant_id
    if chosen is None:
        raise Problem(422, "Unprocessable Content", "tenant_id is required for a provider key")
    if not principal.can_see(chosen):
        raise Problem(404, "Not Found", f"tenant {chosen} not found")
    return chosen


_GET = {"tenant": registry.get_tenant, "site": registry.get_site, "device": registry.get_device}


async def _visible(pool: Pool, principal: Principal, kind: str, object_id: str) -> Any:
    row = await _GET[kind](pool, object_id)
    tenant = None if row is None else (row["id"] if kind == "tenant" else row["tenant_id"])
    if row is None or not principal.can_see(tenant):
        raise Problem(404, "Not Found", f"{kind} {object_id} not found")
    return row


def _patch(body: BaseModel) -> dict[str, Any]:
    """The fields a PATCH sets; null is refused for required ones."""
    values = body.model_dump(exclude_unset=True)
    nulls = sorted(k for k, v in values.items() if v is None and k in registry.REQUIRED)
    if nulls:
        raise Problem(422, "Unprocessable Content", f"{', '.join(nulls)} may not be null")
    return values


def _metric(m: dict[str, Any]) -> MetricSpec:
    return MetricSpec(m["name"], m["unit"], m["min_value"], m["max_value"], m["description"])


def _mismatch(principal: Principal, tenant_id: str | None) -> bool:
    return tenant_id is not None and not principal.can_see(tenant_id)


# --- tenants ---------------------------------------------------------------------------


@router.get("/tenants", response_model=Page[TenantOut], responses=p.READ)
async def list_tenants(pool: PoolDep, who: Reader, limit: Limit = 100, after: After = None) -> Any:
    """Tenants the key may see (a tenant-scoped key sees only its own)."""
    return _page(await registry.list_tenants(pool, who.tenant_id, after, limit), limit, TenantOut)


@router.post("/tenants", status_code=201, response_model=TenantOut, responses=p.WRITE)
async def create_tenant(body: TenantIn, pool: PoolDep, who: Admin) -> Any:
    """Create a tenant (provider admin only)."""
    require_provider(who)
    await registry.create_tenant(pool, body.model_dump())
    return await _visible(pool, who, "tenant", body.id)


@router.get("/tenants/{tenant_id}", response_model=TenantOut, responses=p.READ)
async def get_tenant(tenant_id: Slug, pool: PoolDep, who: Reader) -> Any:
    """One tenant."""
    return await _visible(pool, who, "tenant", tenant_id)


@router.patch("/tenants/{tenant_id}", response_model=TenantOut, responses=p.WRITE)
async def patch_tenant(tenant_id: Slug, body: TenantPatch, pool: PoolDep, who: Admin) -> Any:
    """Change a tenant's name, time zone, tax id or address."""
    await _visible(pool, who, "tenant", tenant_id)
    await registry.update_tenant(pool, tenant_id, _patch(body))
    return await _visible(pool, who, "tenant", tenant_id)


# --- sites -----------------------------------------------------------------------------


@router.get("/sites", response_model=Page[SiteOut], responses=p.READ)
async def list_sites(
    pool: PoolDep, who: Reader, tenant_id: TenantQ = None, limit: Limit = 100, after: After = None
) -> Any:
    """Sites, optionally of one tenant."""
    if _mismatch(who, tenant_id):
        return {"items": [], "next_cursor": None}
    rows = await registry.list_sites(pool, who.scope(tenant_id), after, limit)
    return _page(rows, limit, SiteOut)


@router.post("/sites", status_code=201, response_model=SiteOut, responses=p.WRITE)
async def create_site(body: SiteIn, pool: PoolDep, who: Admin) -> Any:
    """Create a site of a tenant."""
    values = body.model_dump() | {"tenant_id": _own_tenant(who, body.tenant_id)}
    await registry.create_site(pool, values)
    return await _visible(pool, who, "site", body.id)


@router.get("/sites/{site_id}", response_model=SiteOut, responses=p.READ)
async def get_site(site_id: Slug, pool: PoolDep, who: Reader) -> Any:
    """One site."""
    return await _visible(pool, who, "site", site_id)


@router.patch("/sites/{site_id}", response_model=SiteOut, responses=p.WRITE)
async def patch_site(site_id: Slug, body: SitePatch, pool: PoolDep, who: Admin) -> Any:
    """Change a site."""
    await _visible(pool, who, "site", site_id)
    await registry.update_site(pool, site_id, _patch(body))
    return await _visible(pool, who, "site", site_id)


@router.delete("/sites/{site_id}", status_code=204, responses=p.WRITE)
async def delete_site(site_id: Slug, pool: PoolDep, who: Admin) -> Response:
    """Delete a site that has no devices (409 otherwise)."""
    await _visible(pool, who, "site", site_id)
    await registry.delete_site(pool, site_id)
    return Response(status_code=204)


# --- device types ----------------------------------------------------------------------


def _type_out(dt: DeviceType) -> DeviceTypeOut:
    metrics = [MetricIn.model_validate(m, from_attributes=True) for m in dt.metrics]
    return DeviceTypeOut(
        id=dt.id,
        name=dt.name,
        reporting_interval_s=dt.reporting_interval_s,
        description=dt.description,
        metrics=metrics,
        offline_after_intervals=dt.offline_after_intervals,
        rules=list(dt.detection.get("rules") or []),
        regime=dt.detection.get("regime"),
        relations=list(dt.detection.get("relations") or []),
    )


@router.get("/device-types", response_model=list[DeviceTypeOut], responses=p.READ)
async def list_device_types(pool: PoolDep, who: Reader) -> Any:
    """Every device type with its metric catalog (valid ranges, units)."""
    return [_type_out(dt) for dt in await registry.device_types(pool)]


@router.get("/device-types/{type_id}", response_model=DeviceTypeOut, responses=p.READ)
async def get_device_type(type_id: Slug, pool: PoolDep, who: Reader) -> Any:
    """One device type."""
    found = [dt for dt in await registry.device_types(pool) if dt.id == type_id]
    if not found:
        raise Problem(404, "Not Found", f"device type {type_id} not found")
    return _type_out(found[0])


@router.post("/device-types", status_code=201, response_model=DeviceTypeOut, responses=p.WRITE)
async def create_device_type(body: DeviceTypeIn, pool: PoolDep, who: Admin) -> Any:
    """Register a device type (provider admin only)."""
    require_provider(who)
    try:
        metrics = tuple(_metric(m.model_dump()) for m in body.metrics)
        dt = DeviceType(
            body.id,
            body.name,
            body.reporting_interval_s,
            metrics,
            body.description,
            body.offline_after_intervals,
            body.detection().data(),
        )
    except ValueError as exc:
        raise Problem(422, "Unprocessable Content", str(exc)) from exc
    if len({m.name for m in metrics}) != len(metrics):
        raise Problem(422, "Unprocessable Content", "metric names must be unique")
    await registry.create_device_type(pool, dt)
    return _type_out(dt)


# --- devices ---------------------------------------------------------------------------


@router.get("/devices", response_model=Page[DeviceOut], responses=p.READ)
async def list_devices(
    pool: PoolDep,
    who: Reader,
    tenant_id: TenantQ = None,
    site_id: Annotated[str | None, Query(pattern=SLUG_PATTERN)] = None,
    device_type_id: Annotated[str | None, Query(pattern=SLUG_PATTERN)] = None,
    online: bool | None = None,
    limit: Limit = 100,
    after: After = None,
) -> Any:
    """Devices with online/offline state and last seen time."""
    if _mismatch(who, tenant_id):
        return {"items": [], "next_cursor": None}
    filters = {"tenant_id": who.scope(tenant_id), "site_id": site_id, "online": online}
    filters["device_type_id"] = device_type_id
    rows = await registry.list_devices(pool, filters, after, limit)
    return _page(rows, limit, DeviceOut)


@router.post("/devices", status_code=201, response_model=DeviceCreated, responses=p.WRITE)
async def create_device(body: DeviceIn, pool: PoolDep, who: Admin) -> Any:
    """Register a device; the response holds its MQTT password, shown this once."""
    values = body.model_dump() | {"tenant_id": _own_tenant(who, body.tenant_id)}
    password = await registry.create_device(pool, values)
    device = await _visible(pool, who, "device", body.id)
    return {
        "device": device,
        "credential": Credential(device_id=body.id, username=body.id, password=password),
    }


@router.get("/devices/{device_id}", response_model=DeviceOut, responses=p.READ)
async def get_device(device_id: DevicePath, pool: PoolDep, who: Reader) -> Any:
    """One device with its connection state."""
    return await _visible(pool, who, "device", device_id)


@router.patch("/devices/{device_id}", response_model=DeviceOut, responses=p.WRITE)
async def patch_device(device_id: DevicePath, body: DevicePatch, pool: PoolDep, who: Admin) -> Any:
    """Rename, move to another site of the same tenant, enable or disable a device."""
    device = await _visible(pool, who, "device", device_id)
    values = _patch(body)
    if values.get("site_id") is not None:
        await registry.check_site(pool, values["site_id"], device["tenant_id"])
    await registry.update_device(pool, device_id, values)
    return await _visible(pool, who, "device", device_id)


@router.delete("/devices/{device_id}", status_code=204, responses=p.WRITE)
async def delete_device(device_id: DevicePath, pool: PoolDep, who: Admin) -> Response:
    """Delete a device (409 while other records still refer to it; disable it instead)."""
    await _visible(pool, who, "device", device_id)
    await registry.delete_device(pool, device_id)
    return Response(status_code=204)


@router.post("/devices/{device_id}/credential", response_model=Credential, responses=p.WRITE)
async def rotate_credential(device_id: DevicePath, pool: PoolDep, who: Admin) -> Any:
    """Give a device a new MQTT password (shown this once); the old one stops working."""
    await _visible(pool, who, "device", device_id)
    password = await registry_service.rotate_credential(pool, device_id)
    if password is None:
        raise Problem(404, "Not Found", f"device {device_id} not found")
    return Credential(device_id=device_id, username=device_id, password=password)
