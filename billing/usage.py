"""Usage and availability of a period's subscriptions: billing's covered time, counted by ingest.

Tenant time zones and details come from registry.service, readings and events are counted by
ingest.service, maintenance windows come from analytics.alerts.service; billing's own SQL is in
usage_repository.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from analytics.alerts import service as alerts
from billing import usage_record_repository as record_repo
from billing import usage_repository as usage_repo
from billing.models import Window
from ingest import service as ingest
from registry import service as registry
from servitize.db import Connection

# Usage metered from telemetry rather than from events: every stored value (data point) of a
# covered device in its covered time, the unit IoT platforms such as ThingsBoard Cloud bill by.
# Ingest stores a reading once however often it is delivered, so it is counted once.
TELEMETRY_VALUES = "telemetry_values"


async def period_subscriptions(
    conn: Connection, first: date, next_first: date, tenant_ids: list[str] | None
) -> list[dict[str, Any]]:
    """Subscriptions overlapping the period with the tenant's timezone, tenant_name, tax_id,
    address and coverage arrays."""
    rows = await usage_repo.period_subscriptions(conn, first, next_first, tenant_ids)
    tenants = await registry.tenant_details(conn, sorted({r["tenant_id"] for r in rows}))
    return [_with_tenant(dict(r), tenants[r["tenant_id"]]) for r in rows]


def _with_tenant(row: dict[str, Any], tenant: dict[str, Any]) -> dict[str, Any]:
    row["timezone"], row["tenant_name"] = tenant["timezone"], tenant["name"]
    row["tax_id"], row["address"] = tenant["tax_id"], tenant["address"]
    return row


async def _covered(
    conn: Connection, first: date, next_first: date, tenant_ids: list[str] | None
) -> list[usage_repo.Covered]:
    zones = await registry.tenant_timezones(conn, tenant_ids)
    return await usage_repo.covered(conn, first, next_first, tenant_ids, zones)


async def usage_counts(
    conn: Connection,
    first: date,
    next_first: date,
    tenant_ids: list[str] | None,
    types: list[str],
) -> dict[tuple[int, str], int]:
    """Usage per (subscription, type) with device timestamps in each device's covered time."""
    spans = [c[:4] for c in await _covered(conn, first, next_first, tenant_ids)]
    events = [t for t in types if t != TELEMETRY_VALUES]
    counts = await ingest.event_counts(conn, spans, events)
    if TELEMETRY_VALUES in types:
        values = await ingest.reading_counts(conn, spans)
        counts |= {(sub, TELEMETRY_VALUES): n for sub, n in values.items()}
    # usage reported through the API (billing.usage_records) counts like device events
    for key, n in (await record_repo.usage_sums(conn, spans, events)).items():
        counts[key] = counts.get(key, 0) + n
    return counts


Bounds = usage_repo.Bounds


async def period_bounds(
    conn: Connection, first: date, next_first: date, tenant_ids: list[str] | None
) -> dict[str, Bounds]:
    """Each tenant's zone and period instants as measured (usage_repository.BOUNDS)."""
    zones = await registry.tenant_timezones(conn, tenant_ids)
    return await usage_repo.period_bounds(conn, first, next_first, tenant_ids, zones)


async def availability(
    conn: Connection,
    first: date,
    next_first: date,
    tenant_ids: list[str] | None,
    sub_ids: list[int],
    windows: list[Window],
) -> dict[int, tuple[int, int]]:
    """(intervals with a reading, intervals expected) per subscription, 5-minute grid."""
    wanted = set(sub_ids)
    spans = [c for c in await _covered(conn, first, next_first, tenant_ids) if c[0] in wanted]
    left_out = [(w.device_id, w.start, w.end) for w in windows]
    return await ingest.availability(conn, spans, left_out)


async def maintenance_windows(
    conn: Connection, start: datetime, end: datetime, tenant_ids: list[str] | None
) -> list[Window]:
    """Maintenance windows (analytics' alert domain) overlapping [start, end), per device."""
    found = await alerts.device_windows(conn, start, end, tenant_ids)
    return [Window(device, s, e) for device, s, e in found]
