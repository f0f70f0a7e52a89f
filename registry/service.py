"""Registry use cases; each owns its transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from registry import credentials, repository
from registry.catalog import BUILTIN_TYPES, builtin_type
from registry.models import (
    Device,
    DeviceInfo,
    DeviceType,
    Site,
    Tenant,
    check_not_reserved,
    is_reserved,
)
from servitize.db import Connection, Pool, transaction


async def ensure_builtin_types(pool: Pool) -> None:
    """Register the built-in device types and their metric catalogs."""
    async with transaction(pool) as conn:
        for device_type in BUILTIN_TYPES:
            await repository.upsert_device_type(conn, device_type)


async def save_tenant(pool: Pool, tenant: Tenant, sites: Iterable[Site] = ()) -> None:
    """Create or update a tenant and its sites."""
    async with transaction(pool) as conn:
        await repository.upsert_tenant(conn, tenant)
        for site in sites:
            await repository.upsert_site(conn, site)


async def save_site(pool: Pool, site: Site) -> bool:
    """Create or update a site; False when its tenant does not exist."""
    async with transaction(pool) as conn:
        if not await repository.tenant_exists(conn, site.tenant_id):
            return False
        await repository.upsert_site(conn, site)
    return True


async def register_devices(pool: Pool, devices: Iterable[Device]) -> dict[str, str]:
    """Register devices with fresh credentials; returns each new password (shown once)."""
    passwords: dict[str, str] = {}
    devices = [d for d in devices if check_not_reserved(d.id)]
    async with transaction(pool) as conn:
        for device in devices:
            password = credentials.new_password()
            await repository.upsert_device(conn, device, credentials.hash_password(password))
            passwords[device.id] = password
    return passwords


async def rotate_credential(pool: Pool, device_id: str) -> str | None:
    """Give a device a new password; None if the device does not exist."""
    password = credentials.new_password()
    async with transaction(pool) as conn:
        found = await repository.set_credential(
            conn, device_id, credentials.hash_password(password)
        )
    return password if found else None


@dataclass(frozen=True)
class RegistrySnapshot:
    """Devices and types as ingest sees them at one moment."""

    devices: dict[str, DeviceInfo]
    types: dict[str, DeviceType]


async def snapshot(conn: Connection) -> RegistrySnapshot:
    """Load every device with its type, for validating messages."""
    types = await repository.load_device_types(conn)
    devices = {
        d["id"]: DeviceInfo(d["id"], d["tenant_id"], d["enabled"], types[d["device_type_id"]])
        for d in await repository.load_devices(conn)
    }
    return RegistrySnapshot(devices, types)


async def mosquitto_auth_files(pool: Pool, service_users: dict[str, str]) -> tuple[str, str]:
    """Mosquitto password file and ACL from the registry (plus service accounts by hash).

    Raises ValueError when a service user's name is not a reserved one or a device holds it:
    two lines for one username would let the device's password log in as the service.
    """
    async with pool.acquire() as conn:
        creds = await repository.device_credentials(conn)
    check_service_users(sorted(service_users), {device_id for device_id, _ in creds})
    lines = [f"{user}:{hashed}" for user, hashed in sorted(service_users.items())]
    lines += [f"{device_id}:{hashed}" for device_id, hashed in creds]
    return "\n".join(lines) + "\n", mosquitto_acl(sorted(service_users))


def check_service_users(users: list[str], device_ids: set[str]) -> None:
    """Refuse service user names a device has or could take."""
    for user in users:
        if not is_reserved(user):
            raise ValueError(
                f"service user {user!r} is not a reserved name (e.g. ingest, ingest-2, "
                "servitize-...): a tenant could register a device with that id"
            )
        if user in device_ids:
            raise ValueError(
                f"service user {user!r} collides with a registered device of that id; "
                "rename or delete the device first"
            )


_SERVICE_READS = ("telemetry", "events", "status")
# The fleet runtime (service users named fleet or fleet-*) publishes commands, twin deltas and
# firmware chunks, and reads what devices answer (docs/mqtt.md, downlink).
_FLEET_WRITES = ("commands/#", "twin/delta", "ota/chunk")
_FLEET_READS = ("replies/#", "twin/reported", "ota/request", "ota/state", "status")


def is_fleet_user(user: str) -> bool:
    """Whether a service user is a fleet runtime's (fleet, fleet-2, ...)."""
    lowered = user.lower()
    return lowered == "fleet" or lowered.startswith("fleet-")


def service_user_acl(user: str) -> list[str]:
    """One service user's ACL lines: ingest users only read; fleet users also write downlink."""
    if is_fleet_user(user):
        lines = [f"topic write devices/+/{channel}" for channel in _FLEET_WRITES]
        lines += [f"topic read devices/+/{channel}" for channel in _FLEET_READS]
    else:
        lines = [f"topic read devices/+/{channel}" for channel in _SERVICE_READS]
        lines += ["topic read $SYS/broker/version"]
    return [f"user {user}", *lines, ""]


def mosquitto_acl(service_users: list[str]) -> str:
    """Devices write below devices/<their id>/; ingest users only read; fleet writes downlink."""
    parts = [
        "# Generated by `servitize registry mosquitto-auth`; do not edit by hand.",
        "# Devices: the MQTT username is the device id; each writes only its own subtree.",
        "pattern write devices/%u/#",
        "pattern read devices/%u/commands/#",
        "pattern read devices/%u/twin/delta",
        "pattern read devices/%u/ota/chunk",
        "",
        "# Service users: ingest processes read telemetry, events and status and write nothing;",
        "# $SYS/broker/version tells ingest whether a $share group is safe (docs/ingest.md).",
        "# Fleet runtimes (fleet, fleet-*) write commands, twin deltas and chunks, read replies.",
    ]
    for user in service_users:
        parts += service_user_acl(user)
    return "\n".join(parts)


# Reads for other domains, inside the caller's transaction (conn); they never query our tables.

Units = dict[str, dict[str, str]]
Ranges = dict[str, dict[str, tuple[float | None, float | None]]]


async def device_placements(
    conn: Connection, ids: list[str] | None = None
) -> list[tuple[str, str, str | None, str]]:
    """(device id, tenant, site, device type) of the given devices (all when None)."""
    rows = await repository.placements(conn, ids)
    return [(r["id"], r["tenant_id"], r["site_id"], r["device_type_id"]) for r in rows]


async def tenant_devices(
    conn: Connection, tenant_ids: list[str] | None = None
) -> list[tuple[str, str, str | None]]:
    """(device id, tenant, site) of the devices of some tenants (all when None)."""
    rows = await repository.tenant_placements(conn, tenant_ids)
    return [(r["id"], r["tenant_id"], r["site_id"]) for r in rows]


async def metric_catalog(conn: Connection) -> tuple[Units, Ranges]:
    """Per device type and metric: the unit, and the (min, max) range (None where open)."""
    units: Units = {}
    ranges: Ranges = {}
    for r in await repository.metric_specs(conn):
        units.setdefault(r["device_type_id"], {})[r["metric"]] = r["unit"]
        ranges.setdefault(r["device_type_id"], {})[r["metric"]] = (r["min_value"], r["max_value"])
    return units, ranges


async def type_metric_names(conn: Connection, device_type: str) -> list[str]:
    """A device type's metric names in name order (empty for an unknown type)."""
    return await repository.type_metric_names(conn, device_type)


async def reporting_intervals(conn: Connection) -> dict[str, int]:
    """Reporting interval in seconds per device type."""
    return await repository.reporting_intervals(conn)


async def offline_after_s(conn: Connection) -> dict[str, float]:
    """Per device type: seconds of silence after which a device is offline (and silent)."""
    rows = await repository.type_policies(conn)
    return {r["id"]: r["offline_after_intervals"] * r["reporting_interval_s"] for r in rows}


async def detection_specs(conn: Connection) -> dict[str, dict[str, Any]]:
    """Per device type: its catalog rules, regime and relations as stored data."""
    return {r["id"]: dict(r["detection"]) for r in await repository.type_policies(conn)}


def builtin_detection(type_id: str) -> dict[str, Any]:
    """The seeded detection data of a built-in type (none for another id): for tools that
    judge built-in types without a database (evaluation, benchmarks, unit tests)."""
    try:
        return dict(builtin_type(type_id).detection)
    except KeyError:
        return {}


async def device_ids_of_type(conn: Connection, device_type: str) -> list[str]:
    """Ids of a type's devices, in id order."""
    return await repository.device_ids_of_type(conn, device_type)


async def registered(conn: Connection, ids: list[str], *, enabled_only: bool = False) -> list[str]:
    """Those of the ids that are registered devices (enabled ones only, when asked)."""
    return await repository.existing_ids(conn, ids, enabled_only=enabled_only)


async def foreign_devices(conn: Connection, tenant_id: str, device_ids: list[str]) -> list[str]:
    """Device ids that do not exist or belong to another tenant."""
    return await repository.foreign_devices(conn, tenant_id, device_ids)


async def tenant_exists(conn: Connection, tenant_id: str) -> bool:
    """Whether the tenant is registered."""
    return await repository.tenant_exists(conn, tenant_id)


async def site_of_tenant(conn: Connection, tenant_id: str, site_id: str) -> bool:
    """Whether the site is registered under this tenant."""
    return await repository.site_exists(conn, tenant_id, site_id)


async def device_of_tenant(conn: Connection, tenant_id: str, device_id: str) -> bool:
    """Whether the device is registered under this tenant."""
    return await repository.device_of_tenant(conn, tenant_id, device_id)


async def tenant_details(conn: Connection, tenant_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Timezone, name, tax_id and address per tenant id."""
    return await repository.tenant_details(conn, tenant_ids)


async def tenant_timezones(conn: Connection, tenant_ids: list[str] | None) -> dict[str, str]:
    """Time zone per tenant (all when None)."""
    return await repository.tenant_timezones(conn, tenant_ids)


async def site_locations(
    conn: Connection, site_ids: list[str]
) -> dict[str, tuple[str, float | None, float | None]]:
    """(tenant, latitude, longitude) per site id (field service: distance to a site)."""
    rows = await repository.site_locations(conn, site_ids)
    return {r["id"]: (r["tenant_id"], r["latitude"], r["longitude"]) for r in rows}
