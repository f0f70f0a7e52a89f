"""Invoice SQL: drafts, lines, numbering, status changes and credit notes. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from servitize.db import Connection

LINE_COLUMNS = (
    "invoice_id",
    "line_no",
    "kind",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "currency",
    "vat_rate",
    "subscription_id",
    "plan_id",
    "usage_type",
    "usage_period",
    "usage_quantity",
    "detail",
)
_LINE_TYPES = (
    "bigint",
    "int",
    "text",
    "text",
    "numeric",
    "numeric",
    "bigint",
    "text",
    "numeric",
    "bigint",
    "text",
    "text",
    "text",
    "bigint",
    "text",
)
HEADER_COLUMNS = (
    "tenant_id",
    "currency",
    "subtotal",
    "vat",
    "total",
    "vat_breakdown",
    "buyer_name",
    "buyer_tax_id",
    "buyer_address",
    "seller_name",
    "seller_tax_id",
    "seller_address",
    "timezone",
    "period_start",
    "period_end",
    "measured_until",
)
# Header columns added after invoices were first issued: left out of an old invoice's hash.
LATER_HEADER_COLUMNS = frozenset(("timezone", "period_start", "period_end", "measured_until"))
_HEADER_TYPES = (
    "text",
    "text",
    "bigint",
    "bigint",
    "bigint",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "timestamptz",
)


async def lock_tenant_periods(conn: Connection, tenant_ids: list[str], period: str) -> None:
    """Transaction advisory lock per (tenant, period), taken in sorted order (no deadlocks)."""
    await conn.execute(
        """SELECT pg_advisory_xact_lock(hashtext('billing-run'), hashtext(t || '/' || $2))
           FROM (SELECT t FROM unnest($1::text[]) t ORDER BY t) s""",
        sorted(tenant_ids),
        period,
    )


async def upsert_drafts(
    conn: Connection, period: str, headers: list[tuple[Any, ...]]
) -> dict[str, int]:
    """Insert or refresh draft headers; issued invoices are left alone. tenant -> invoice id."""
    cols: list[list[Any]] = [[h[i] for h in headers] for i in range(len(HEADER_COLUMNS))]
    unnest = ", ".join(f"${i + 2}::{t}[]" for i, t in enumerate(_HEADER_TYPES))
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in HEADER_COLUMNS[1:])
    rows = await conn.fetch(
        f"""INSERT INTO billing_invoices (period, {", ".join(HEADER_COLUMNS)})
            SELECT $1, u.tenant_id, u.currency, u.subtotal, u.vat, u.total,
                   u.vat_breakdown::jsonb, u.buyer_name, u.buyer_tax_id, u.buyer_address,
                   u.seller_name, u.seller_tax_id, u.seller_address,
                   u.timezone, u.period_start, u.period_end, u.measured_until
            FROM unnest({unnest}) AS u({", ".join(HEADER_COLUMNS)})
            ON CONFLICT (tenant_id, period) WHERE status <> 'void'
            DO UPDATE SET {sets}, generated_at = now()
            WHERE billing_invoices.status = 'draft'
            RETURNING id, tenant_id""",
        period,
        *[list(c) for c in cols],
    )
    return {r["tenant_id"]: r["id"] for r in rows}


async def delete_lines(conn: Connection, invoice_ids: list[int]) -> None:
    """Remove the lines of draft invoices before they are regenerated."""
    await conn.execute(
        "DELETE FROM billing_invoice_lines WHERE invoice_id = ANY($1::bigint[])", invoice_ids
    )


async def insert_lines(conn: Connection, records: list[tuple[Any, ...]]) -> None:
    """Bulk-insert invoice lines (one unnest statement)."""
    if not records:
        return
    cols = [list(c) for c in zip(*records, strict=True)]
    unnest = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(_LINE_TYPES))
    names = ", ".join(LINE_COLUMNS)
    select = names.replace("detail", "detail::jsonb")
    await conn.execute(
        f"INSERT INTO billing_invoice_lines ({names}) SELECT {select} FROM unnest({unnest}) "
        f"AS u({names})",
        *cols,
    )


async def delete_drafts(conn: Connection, tenant_ids: list[str], period: str) -> int:
    """Delete drafts of tenants that have nothing to bill any more."""
    status: str = await conn.execute(
        """DELETE FROM billing_invoices
           WHERE period = $2 AND status = 'draft' AND tenant_id = ANY($1::text[])""",
        tenant_ids,
        period,
    )
    return int(status.split()[-1])


async def issued_tenants(
    conn: Connection, periods: list[str], tenant_ids: list[str] | None
) -> set[tuple[str, str]]:
    """(tenant, period) pairs whose invoice is finalized or paid."""
    rows = await conn.fetch(
        """SELECT tenant_id, period FROM billing_invoices
           WHERE period = ANY($1::text[]) AND status IN ('finalized', 'paid')
             AND ($2::text[] IS NULL OR tenant_id = ANY($2))""",
        periods,
        tenant_ids,
    )
    return {(r["tenant_id"], r["period"]) for r in rows}


async def billed_usage(
    conn: Connection, period: str, sub_ids: list[int]
) -> dict[tuple[int, str], int]:
    """Usage already billed for a period on issued invoices, per (subscription, type)."""
    rows = await conn.fetch(
        """SELECT l.subscription_id, l.usage_type, sum(l.usage_quantity)::bigint AS n
           FROM billing_invoice_lines l JOIN billing_invoices i ON i.id = l.invoice_id
           WHERE i.status IN ('finalized', 'paid') AND l.usage_period = $1
             AND l.subscription_id = ANY($2::bigint[]) AND l.usage_type IS NOT NULL
           GROUP BY 1, 2""",
        period,
        sub_ids,
    )
    return {(r["subscription_id"], r["usage_type"]): r["n"] for r in rows}


async def billed_terms(
    conn: Connection, period: str, terms: list[tuple[int, str]]
) -> dict[int, int]:
    """Recurring charges of issued invoices of other months per subscription for its term
    (billed in advance): {subscription: minor units}."""
    rows = await conn.fetch(
        """SELECT l.subscription_id, sum(l.amount)::bigint AS n
           FROM billing_invoice_lines l JOIN billing_invoices i ON i.id = l.invoice_id
           JOIN unnest($2::bigint[], $3::text[]) AS t(sub_id, term)
             ON t.sub_id = l.subscription_id AND l.detail ->> 'term' = t.term
           WHERE i.status IN ('finalized', 'paid') AND l.kind = 'recurring' AND i.period <> $1
           GROUP BY 1""",
        period,
        [t[0] for t in terms],
        [t[1] for t in terms],
    )
    return {r["subscription_id"]: r["n"] for r in rows}


async def seller(conn: Connection) -> asyncpg.Record:
    """The provider's name, tax id and address."""
    row = await conn.fetchrow("SELECT name, tax_id, address FROM billing_seller")
    assert row is not None, "migration 0200 inserts the seller row"
    return row


async def invoice(
    conn: Connection, invoice_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    """One invoice header."""
    sql = "SELECT * FROM billing_invoices WHERE id = $1" + (" FOR UPDATE" if lock else "")
    return await conn.fetchrow(sql, invoice_id)


async def invoices(
    conn: Connection, period: str | None, tenant_id: str | None, status: str | None
) -> list[asyncpg.Record]:
    """Invoice headers filtered by period, tenant and status."""
    return await conn.fetch(
        """SELECT * FROM billing_invoices
           WHERE ($1::text IS NULL OR period = $1) AND ($2::text IS NULL OR tenant_id = $2)
             AND ($3::text IS NULL OR status = $3)
           ORDER BY period, tenant_id, id""",
        period,
        tenant_id,
        status,
    )


async def lines(conn: Connection, invoice_ids: list[int]) -> list[asyncpg.Record]:
    """Lines of invoices, in invoice and line order."""
    return await conn.fetch(
        """SELECT * FROM billing_invoice_lines WHERE invoice_id = ANY($1::bigint[])
           ORDER BY invoice_id, line_no""",
        invoice_ids,
    )


async def reserve_numbers(conn: Connection, series: str, year: int, count: int) -> int:
    """Reserve `count` consecutive numbers of a series and year; returns the first. The
    counter row stays locked until commit, so a rollback gives the numbers back (gapless)."""
    await conn.execute(
        """INSERT INTO billing_number_counters (series, year) VALUES ($1, $2)
           ON CONFLICT DO NOTHING""",
        series,
        year,
    )
    last: int = await conn.fetchval(
        "SELECT last_value FROM billing_number_counters WHERE series = $1 AND year = $2 FOR UPDATE",
        series,
        year,
    )
    await conn.execute(
        "UPDATE billing_number_counters SET last_value = $3 WHERE series = $1 AND year = $2",
        series,
        year,
        last + count,
    )
    return last + 1


async def lock_drafts(conn: Connection, invoice_ids: list[int]) -> list[asyncpg.Record]:
    """The invoices among `invoice_ids` that are still drafts, locked, in tenant order."""
    return await conn.fetch(
        """SELECT * FROM billing_invoices WHERE id = ANY($1::bigint[]) AND status = 'draft'
           ORDER BY tenant_id, id FOR UPDATE""",
        invoice_ids,
    )


async def mark_finalized_many(
    conn: Connection,
    issued: list[tuple[int, str, str]],
    at: Any,
    early_reason: str | None = None,
    due: date | None = None,
) -> None:
    """Record (invoice id, number, content hash) for many invoices finalized at `at`, and
    why when the period had not ended."""
    ids, numbers, digests = ([row[k] for row in issued] for k in range(3))
    await conn.execute(
        """UPDATE billing_invoices i SET status = 'finalized', number = u.number,
                  content_hash = u.digest, finalized_at = $4,
                  early_finalize_reason = CASE WHEN $4 < i.period_end THEN $5 END,
                  due_date = $6
           FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, number, digest)
           WHERE i.id = u.id""",
        ids,
        numbers,
        digests,
        at,
        early_reason,
        due,
    )


async def mark_finalized(
    conn: Connection, invoice_id: int, number: str, digest: str, at: Any
) -> None:
    """Record the number, hash and time of finalization."""
    await conn.execute(
        """UPDATE billing_invoices SET status = 'finalized', number = $2, content_hash = $3,
           finalized_at = $4 WHERE id = $1""",
        invoice_id,
        number,
        digest,
        at,
    )


async def set_status(conn: Connection, invoice_id: int, status: str, reason: str | None) -> None:
    """Record payment or voiding."""
    column = "paid_at" if status == "paid" else "voided_at"
    await conn.execute(
        f"""UPDATE billing_invoices SET status = $2, {column} = now(),
            void_reason = coalesce($3, void_reason) WHERE id = $1""",
        invoice_id,
        status,
        reason,
    )
