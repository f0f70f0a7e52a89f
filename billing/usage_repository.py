"""Metering SQL on billing's own tables: subscriptions in a period and their covered time.

The covered time is each coverage row clipped to its subscription and to the tenant's period
bounds (local midnights in its zone, or the instants an issued invoice recorded; the zones come
from the registry). Usage and
availability are counted by ingest over these intervals (billing.usage).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

import asyncpg

from servitize.db import Connection

# $1 period's first day, $2 next month's first day, $3 tenant ids (NULL = every tenant),
# $4/$5 tenant ids and their time zones (from the registry).
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
    FROM unnest($4::text[], $5::text[]) AS t(id, timezone)
    LEFT JOIN billing_invoices cur ON cur.tenant_id = t.id
         AND cur.status IN ('finalized', 'paid') AND cur.period = to_char($1::date, 'YYYY-MM')
    LEFT JOIN billing_invoices prev ON prev.tenant_id = t.id
         AND prev.status IN ('finalized', 'paid')
         AND prev.period = to_char($1::date - 1, 'YYYY-MM')
    WHERE ($3::text[] IS NULL OR t.id = ANY($3))
)"""

# Each coverage row clipped to its subscription and to the tenant's period bounds, and to
# now (on the 5-minute grid): a running month is measured over the time that has passed.
_COVERED = (
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

# (subscription id, device id, covered from, covered until, the period's local midnight)
Covered = tuple[int, str, datetime, datetime, datetime]


class Bounds(NamedTuple):
    """A tenant's period as measured: its zone, UTC instants [start, end), and `until` when
    the period is still running (measured up to then), else None."""

    timezone: str
    start: datetime
    end: datetime
    until: datetime | None


async def period_bounds(
    conn: Connection,
    first: date,
    next_first: date,
    tenant_ids: list[str] | None,
    zones: dict[str, str],
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
        list(zones),
        list(zones.values()),
    )
    return {r["tenant_id"]: Bounds(r["timezone"], r["p0"], r["p1"], r["until"]) for r in rows}


async def period_subscriptions(
    conn: Connection, first: date, next_first: date, tenant_ids: list[str] | None
) -> list[asyncpg.Record]:
    """Subscriptions overlapping the period, with coverage arrays (tenant details apart)."""
    return await conn.fetch(
        """SELECT s.id, s.tenant_id, s.plan_id, s.start_date, s.end_date, s.trial_days, s.replaces,
                  array_agg(c.device_id ORDER BY c.device_id, c.start_date) AS devices,
                  array_agg(c.start_date ORDER BY c.device_id, c.start_date) AS starts,
                  array_agg(c.end_date ORDER BY c.device_id, c.start_date) AS ends
           FROM billing_subscriptions s
           JOIN billing_coverage c ON c.subscription_id = s.id
           WHERE ($3::text[] IS NULL OR s.tenant_id = ANY($3))
             AND s.start_date < $2 AND coalesce(s.end_date, $2) > $1
             AND c.start_date < $2 AND coalesce(c.end_date, $2) > $1
           GROUP BY s.id ORDER BY s.tenant_id, s.id""",
        first,
        next_first,
        tenant_ids,
    )


async def covered(
    conn: Connection,
    first: date,
    next_first: date,
    tenant_ids: list[str] | None,
    zones: dict[str, str],
) -> list[Covered]:
    """The non-empty covered intervals of the period's subscriptions, per coverage row."""
    rows = await conn.fetch(
        f"""WITH {_COVERED}
            SELECT sub_id, device_id, t0, t1, origin FROM cov WHERE t1 > t0""",
        first,
        next_first,
        tenant_ids,
        list(zones),
        list(zones.values()),
    )
    return [(r["sub_id"], r["device_id"], r["t0"], r["t1"], r["origin"]) for r in rows]
