"""Metering SQL on billing's own tables: subscriptions in a period and their covered time.

The covered time is each coverage row clipped to its subscription and to the period, as
timestamps of local midnight in the tenant's zone (the zones come from the registry). Usage and
availability are counted by ingest over these intervals (billing.usage).
"""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from servitize.db import Connection

# $1 period's first day, $2 next month's first day, $3 tenant ids (NULL = every tenant),
# $4/$5 tenant ids and their time zones
_COVERED = """
cov AS (
    SELECT s.id AS sub_id, c.device_id,
           (greatest(c.start_date, s.start_date, $1::date)::timestamp AT TIME ZONE t.timezone)
               AS t0,
           (least(coalesce(c.end_date, $2::date), coalesce(s.end_date, $2::date), $2::date)
               ::timestamp AT TIME ZONE t.timezone) AS t1,
           ($1::date::timestamp AT TIME ZONE t.timezone) AS origin
    FROM billing_coverage c
    JOIN billing_subscriptions s ON s.id = c.subscription_id
    JOIN unnest($4::text[], $5::text[]) AS t(id, timezone) ON t.id = s.tenant_id
    WHERE ($3::text[] IS NULL OR s.tenant_id = ANY($3))
      AND c.start_date < $2 AND coalesce(c.end_date, $2) > $1
      AND s.start_date < $2 AND coalesce(s.end_date, $2) > $1
)"""

# (subscription id, device id, covered from, covered until, the period's local midnight)
Covered = tuple[int, str, datetime, datetime, datetime]


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
