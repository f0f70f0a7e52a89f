"""Credit note SQL. Never commits."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from servitize.db import Connection


async def credited(conn: Connection, invoice_id: int) -> list[asyncpg.Record]:
    """The lines and VAT per rate of the credit notes already issued against an invoice."""
    return await conn.fetch(
        "SELECT lines, vat, vat_breakdown FROM billing_credit_notes WHERE invoice_id = $1",
        invoice_id,
    )


async def insert_credit_note(conn: Connection, values: dict[str, Any]) -> asyncpg.Record:
    """Store a credit note and return it."""
    row = await conn.fetchrow(
        """INSERT INTO billing_credit_notes
           (invoice_id, number, reason, currency, lines, subtotal, vat, total, content_hash,
            vat_breakdown)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *""",
        values["invoice_id"],
        values["number"],
        values["reason"],
        values["currency"],
        json.loads(json.dumps(values["lines"], default=str)),
        values["subtotal"],
        values["vat"],
        values["total"],
        values["content_hash"],
        values["vat_breakdown"],
    )
    assert row is not None
    return row


async def credit_notes(conn: Connection, invoice_id: int | None) -> list[asyncpg.Record]:
    """Credit notes, of one invoice or all."""
    return await conn.fetch(
        """SELECT * FROM billing_credit_notes WHERE $1::bigint IS NULL OR invoice_id = $1
           ORDER BY id""",
        invoice_id,
    )
