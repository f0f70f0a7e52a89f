"""Metering SQL: subscriptions in a period, usage from device_events and telemetry, availability.

Every query shares the covered-time CTE: each coverage row clipped to its subscription and to
the period, as timestamps of local midnight in the tenant's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

import asyncpg

from servitize.db import Connection

# $1 period's first day, $2 next month's first day, $3 tenant ids (NULL = every tenant).
# A tenant's period runs between local midnights in its zone, except where an issued invoice
# recorded other instants: an issued month keeps its own, and the month after an issued one
# starts where that one ended. So usage is assigned once even after the zone changes.
BOUNDS = """
bounds AS (
    SELECT t.id AS tenant_id, t.timezone,
           coalesce(cur.period_start, prev.period_end,
                    $1::date::timestamp AT TIME ZONE t.timezone) AS p0,
           coalesce(cur.period_end, $2::date::timestamp AT TIME ZONE t.timezone) AS p1,
           ($1::date::timestamp AT TIME ZONE t.timezone) AS origin
    FROM tenants t
    LEFT JOIN billing_invoices cur ON cur.tenant_id = t.id
         AND cur.status IN ('finalized', 'paid') AND cur.period = to_char($1::date, 'YYYY-MM')
    LEFT JOIN billing_invoices prev ON prev.tenant_id = t.id
         AND prev.status IN ('finalized', 'paid')
         AND prev.period = to_char($1::date - 1, 'YYYY-MM')
    WHERE ($3::text[] IS NULL OR t.id = ANY($3))
)"""

# Each coverage row clipped to its subscription and to the tenant's period bounds, and to
# now (on the 5-minute grid): a running month is measured over the time that has passed.
COVERED = (
    BOUNDS
    + """,
cov AS (
    SELECT s.id AS sub_id, c.device_id,
           greatest(greatest(c.start_date, s.start_date)::timestamp AT TIME ZONE b.timezone,
                    b.p0) AS t0,
           least(least(coalesce(c.end_date, 'infinity'), coalesce(s.end_date, 'infinity'))
                     ::timestamp AT TIME ZONE b.timezone,
                 b.p1, date_bin('5 minutes', now(), b.origin)) AS t1,
           b.origin
    FROM billing_coverage c
    JOIN billing_subscriptions s ON s.id = c.subscription_id
    JOIN bounds b ON b.tenant_id = s.tenant_id
    WHERE c.start_date < $2 AND coalesce(c.end_date, $2) > $1
      AND s.start_date < $2 AND coalesce(s.end_date, $2) > $1
)"""
)


@dataclass(frozen=True, slots=True)
class Window:
    """A maintenance window of one device: its intervals are left out of availability."""

    device_id: str
    start: datetime
    end: datetime


class Bounds(NamedTuple):
    """A tenant's period as measured: its zone, UTC instants [start, end), and `until` when
    the period is still running (measured up to then), else None."""

    timezone: str
    start: datetime
    end: datetime
    until: datetime | None


async def period_bounds(
    conn: Connection, first: date, next_first: date, tenant_ids: list[str] | None
) -> dict[str, Bounds]:
    """Each tenant's period bounds (see BOUNDS)."""
    rows = await conn.fetch(
        f"""WITH {BOUNDS}
            SELECT tenant_id, timezone, p0, p1,
                   CASE WHEN now() < p1
                        THEN greatest(p0, date_bin('5 minutes', now(), origin)) END AS until
            FROM bounds""",
        first,
        next_first,
        tenant_ids,
    )
    return {r["tenant_id"]: Bounds(r["timezone"], r["p0"], r["p1"], r["until"]) for r in rows}


async def period_subscriptions(
    conn: Connection, first: date, next_first: date, tenant_ids: list[str] | None
) -> list[asyncpg.Record]:
    """Subscriptions overlapping the period, with tenant details and coverage arrays."""
    return await conn.fetch(
        """SELECT s.id, s.tenant_id, s.plan_id, s.start_date, s.end_date, s.trial_days, s.replaces,
                  t.timezone, t.name AS tenant_name, t.tax_id, t.address,
                  array_agg(c.device_id ORDER BY c.device_id, c.start_date) AS devices,
                  array_agg(c.start_date ORDER BY c.device_id, c.start_date) AS starts,
                  array_agg(c.end_date ORDER BY c.device_id, c.start_date) AS ends
           FROM billing_subscriptions s
           JOIN tenants t ON t.id = s.tenant_id
           JOIN billing_coverage c ON c.subscription_id = s.id
           WHERE ($3::text[] IS NULL OR s.tenant_id = ANY($3))
             AND s.start_date < $2 AND coalesce(s.end_date, $2) > $1
             AND c.start_date < $2 AND coalesce(c.end_date, $2) > $1
           GROUP BY s.id, t.id ORDER BY s.tenant_id, s.id""",
        first,
        next_first,
        tenant_ids,
    )


# Usage metered from telemetry rather than from events: every stored value (data point) of a
# covered device in its covered time, the unit IoT platforms such as ThingsBoard Cloud bill by.
# Ingest stores a reading once however often it is delivered, so it is counted once.
TELEMETRY_VALUES = "telemetry_values"


async def usage_counts(
    conn: Connection,
    first: date,
    next_first: date,
    tenant_ids: list[str] | None,
    types: list[str],
) -> dict[tuple[int, str], int]:
    """Usage per (subscription, type) with device timestamps in each device's covered time."""
    counts = await _event_counts(conn, first, next_first, tenant_ids, types)
    if TELEMETRY_VALUES in types:
        counts |= await _telemetry_counts(conn, first, next_first, tenant_ids)
    return counts


async def _event_counts(
    conn: Connection, first: date, next_first: date, tenant_ids: list[str] | None, types: list[str]
) -> dict[tuple[int, str], int]:
    rows = await conn.fetch(
        f"""WITH {COVERED}
            SELECT cov.sub_id, e.type, count(*) AS n
            FROM cov JOIN device_events e
              ON e.device_id = cov.device_id AND e.type = ANY($4::text[])
             AND e.ts >= cov.t0 AND e.ts < cov.t1
            WHERE cov.t1 > cov.t0
            GROUP BY cov.sub_id, e.type""",
        first,
        next_first,
        tenant_ids,
        [t for t in types if t != TELEMETRY_VALUES],
    )
    return {(r["sub_id"], r["type"]): r["n"] for r in rows}


async def _telemetry_counts(
    conn: Connection, first: date, next_first: date, tenant_ids: list[str] | None
) -> dict[tuple[int, str], int]:
    rows = await conn.fetch(
        f"""WITH {COVERED}
            SELECT cov.sub_id, count(*) AS n
            FROM cov JOIN telemetry tl
              ON tl.device_id = cov.device_id AND tl.ts >= cov.t0 AND tl.ts < cov.t1
            WHERE cov.t1 > cov.t0
            GROUP BY cov.sub_id""",
        first,
        next_first,
        tenant_ids,
    )
    return {(r["sub_id"], TELEMETRY_VALUES): r["n"] for r in rows}


async def availability(
    conn: Connection,
    first: date,
    next_first: date,
    tenant_ids: list[str] | None,
    sub_ids: list[int],
    windows: list[Window],
) -> dict[int, tuple[int, int]]:
    """(intervals with a reading, intervals expected) per subscription, 5-minute grid."""
    rows = await conn.fetch(
        f"""WITH {COVERED},
            c AS (SELECT * FROM cov WHERE sub_id = ANY($4::bigint[]) AND t1 > t0),
            w AS (SELECT * FROM unnest($5::text[], $6::timestamptz[], $7::timestamptz[])
                  AS w(device_id, w0, w1)),
            maint AS (
                SELECT DISTINCT c.sub_id, c.device_id, c.t0, b AS bucket
                FROM c JOIN w ON w.device_id = c.device_id AND w.w1 > c.t0 AND w.w0 < c.t1
                CROSS JOIN LATERAL generate_series(
                    date_bin('5 minutes', greatest(w.w0, c.t0), c.origin),
                    least(w.w1, c.t1) - interval '1 microsecond', interval '5 minutes') AS b
            ),
            -- per device (LATERAL) so each count is a small in-memory sort over an index range
            seen AS (
                SELECT c.sub_id, c.device_id, c.t0, x.up FROM c CROSS JOIN LATERAL (
                    SELECT count(DISTINCT date_bin('5 minutes', tl.ts, c.origin)) AS up
                    FROM telemetry tl
                    WHERE tl.device_id = c.device_id AND tl.ts >= c.t0 AND tl.ts < c.t1
                      AND NOT EXISTS (
                        SELECT 1 FROM w WHERE w.device_id = c.device_id
                          AND w.w0 < date_bin('5 minutes', tl.ts, c.origin) + interval '5 minutes'
                          AND w.w1 > date_bin('5 minutes', tl.ts, c.origin))) x
            ),
            expected AS (
                SELECT c.sub_id, c.device_id, c.t0,
                       (extract(epoch FROM c.t1 - c.t0) / 300)::bigint
                       - (SELECT count(*) FROM maint m WHERE m.sub_id = c.sub_id
                            AND m.device_id = c.device_id AND m.t0 = c.t0) AS n
                FROM c
            )
            SELECT x.sub_id, sum(coalesce(seen.up, 0))::bigint AS up, sum(x.n)::bigint AS n
            FROM expected x LEFT JOIN seen USING (sub_id, device_id, t0)
            GROUP BY x.sub_id""",
        first,
        next_first,
        tenant_ids,
        sub_ids,
        [w.device_id for w in windows],
        [w.start for w in windows],
        [w.end for w in windows],
    )
    return {r["sub_id"]: (r["up"], r["n"]) for r in rows}


async def maintenance_windows(
    conn: Connection, start: datetime, end: datetime, tenant_ids: list[str] | None
) -> list[Window]:
    """Windows of analytics' maintenance_windows overlapping [start, end), per device: a
    window names a device, a site (all its devices) or the whole tenant."""
    if not await conn.fetchval("SELECT to_regclass('maintenance_windows') IS NOT NULL"):
        return []
    rows = await conn.fetch(
        """SELECT d.id AS device_id, w.starts_at, w.ends_at
           FROM maintenance_windows w
           JOIN devices d ON d.tenant_id = w.tenant_id
            AND (w.site_id IS NULL OR d.site_id = w.site_id)
            AND (w.device_id IS NULL OR d.id = w.device_id)
           WHERE w.starts_at < $2 AND w.ends_at > $1
             AND ($3::text[] IS NULL OR w.tenant_id = ANY($3))""",
        start,
        end,
        tenant_ids,
    )
    return [Window(r["device_id"], r["starts_at"], r["ends_at"]) for r in rows]
