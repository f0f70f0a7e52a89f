"""Prepaid credit SQL: top-ups, what is left of them, and their uses. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from servitize.db import Connection


async def insert_topup(conn: Connection, values: dict[str, Any]) -> asyncpg.Record:
    """Store a top-up and return it."""
    row = await conn.fetchrow(
        """INSERT INTO billing_wallet_topups (tenant_id, amount, currency, expires_on, reference)
           VALUES ($1, $2, $3, $4, $5) RETURNING *""",
        values["tenant_id"],
        values["amount"],
        values["currency"],
        values["expires_on"],
        values["reference"],
    )
    assert row is not None
    return row


async def remaining(conn: Connection, tenant_ids: list[str], on: date) -> list[asyncpg.Record]:
    """Top-ups with something left and not expired on `on`, locked, soonest expiry first."""
    return await conn.fetch(
        """SELECT t.id, t.tenant_id, t.currency, t.expires_on,
                  t.amount - coalesce((SELECT sum(u.amount) FROM billing_wallet_uses u
                                       WHERE u.topup_id = t.id), 0) AS left
           FROM billing_wallet_topups t
           WHERE t.tenant_id = ANY($1::text[]) AND (t.expires_on IS NULL OR t.expires_on >= $2)
             AND t.amount > coalesce((SELECT sum(u.amount) FROM billing_wallet_uses u
                                      WHERE u.topup_id = t.id), 0)
           ORDER BY t.tenant_id, t.expires_on NULLS LAST, t.id FOR UPDATE OF t""",
        tenant_ids,
        on,
    )


async def insert_uses(conn: Connection, uses: list[tuple[int, int, int]]) -> None:
    """Record (top-up, invoice, amount) uses."""
    await conn.executemany(
        "INSERT INTO billing_wallet_uses (topup_id, invoice_id, amount) VALUES ($1, $2, $3)",
        uses,
    )
