"""Finance report SQL. Never commits."""

from __future__ import annotations

import asyncpg

from servitize.db import Connection


async def recurring_revenue(
    conn: Connection, first: str, last: str, tenant_id: str | None, statuses: list[str]
) -> list[asyncpg.Record]:
    """Recurring service revenue (recurring + minimum top-up, SLA credits apart) per
    month, plan and tenant."""
    return await conn.fetch(
        """SELECT i.period, l.plan_id, i.tenant_id, i.currency,
                  sum(l.amount) FILTER (WHERE l.kind IN ('recurring', 'minimum'))::bigint
                      AS recurring,
                  coalesce(sum(l.amount) FILTER (WHERE l.kind = 'sla_credit'), 0)::bigint
                      AS sla_credits
           FROM billing_invoices i JOIN billing_invoice_lines l ON l.invoice_id = i.id
           WHERE i.period BETWEEN $1 AND $2 AND i.status = ANY($4::text[])
             AND ($3::text IS NULL OR i.tenant_id = $3)
             AND l.kind IN ('recurring', 'minimum', 'sla_credit')
           GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3""",
        first,
        last,
        tenant_id,
        statuses,
    )
