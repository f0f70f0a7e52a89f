"""Payments SQL and what is paid and credited per invoice. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from servitize.db import Connection


async def insert_payment(conn: Connection, values: dict[str, Any]) -> asyncpg.Record:
    """Store a payment and return it."""
    row = await conn.fetchrow(
        """INSERT INTO billing_payments (invoice_id, amount, currency, paid_on, reference)
           VALUES ($1, $2, $3, $4, $5) RETURNING *""",
        values["invoice_id"],
        values["amount"],
        values["currency"],
        values["paid_on"],
        values["reference"],
    )
    assert row is not None
    return row


async def payments(conn: Connection, invoice_id: int) -> list[asyncpg.Record]:
    """Payments of an invoice, oldest first."""
    return await conn.fetch(
        "SELECT * FROM billing_payments WHERE invoice_id = $1 ORDER BY id", invoice_id
    )


async def settled(conn: Connection, invoice_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(paid, credited) totals in minor units per invoice."""
    rows = await conn.fetch(
        """SELECT i AS id,
                  (SELECT coalesce(sum(amount), 0) FROM billing_payments WHERE invoice_id = i)
                      ::bigint AS paid,
                  (SELECT coalesce(sum(total), 0) FROM billing_credit_notes WHERE invoice_id = i)
                      ::bigint AS credited
           FROM unnest($1::bigint[]) i""",
        invoice_ids,
    )
    return {r["id"]: (r["paid"], r["credited"]) for r in rows}


async def overdue(conn: Connection, today: date) -> list[asyncpg.Record]:
    """Finalized invoices past their due date with something left to pay and no overdue
    event yet."""
    return await conn.fetch(
        """SELECT i.id, i.tenant_id, i.number, i.due_date, i.currency,
                  i.total - coalesce(p.paid, 0) - coalesce(c.credited, 0) AS outstanding
           FROM billing_invoices i
           LEFT JOIN (SELECT invoice_id, sum(amount) AS paid FROM billing_payments
                      GROUP BY 1) p ON p.invoice_id = i.id
           LEFT JOIN (SELECT invoice_id, sum(total) AS credited FROM billing_credit_notes
                      GROUP BY 1) c ON c.invoice_id = i.id
           WHERE i.status = 'finalized' AND i.due_date < $1
             AND i.total - coalesce(p.paid, 0) - coalesce(c.credited, 0) > 0
             AND NOT EXISTS (SELECT 1 FROM billing_events e
                             WHERE e.invoice_id = i.id AND e.kind = 'overdue')
           ORDER BY i.id""",
        today,
    )
