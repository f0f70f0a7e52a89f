"""The invoice life cycle: draft -> finalized -> paid | void, and credit notes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from billing import credit_repository as credit_repo
from billing import invoice_repository as inv_repo
from billing.errors import BillingError, InvoiceStateError, NotFound
from billing.invoice_math import Totals, content_hash, totals
from billing.invoice_service import CHUNK
from billing.invoice_service import load_invoice as _invoice
from billing.models import Line, Period
from billing.schemas import CreditNoteIn
from servitize.db import Connection, Pool, transaction

# Invoice numbers count per calendar year of the seller, who issues in China.
SELLER_TIMEZONE = "Asia/Shanghai"

Progress = Callable[[int, int], None]


async def finalize(pool: Pool, invoice_id: int) -> dict[str, Any]:
    """Issue a draft: gapless number of the year, content hash; it never changes afterwards."""
    async with transaction(pool) as conn:
        head = await _invoice(conn, invoice_id)
        if not await _issue(conn, [head]):
            inv = await _invoice(conn, invoice_id)
            raise InvoiceStateError(f"invoice {invoice_id} is {inv['status']}, not a draft")
        return dict(await _invoice(conn, invoice_id))


async def finalize_period(
    pool: Pool, period: Period, progress: Progress | None = None
) -> list[tuple[int, str, str]]:
    """Issue every draft of a period, numbered in tenant order; (id, number, hash) each."""
    async with pool.acquire() as conn:
        drafts = await inv_repo.invoices(conn, str(period), None, "draft")
    issued: list[tuple[int, str, str]] = []
    for i in range(0, len(drafts), CHUNK):
        async with transaction(pool) as conn:
            issued += await _issue(conn, drafts[i : i + CHUNK])
        if progress:
            progress(min(i + CHUNK, len(drafts)), len(drafts))
    return issued


async def _issue(conn: Connection, heads: list[Any]) -> list[tuple[int, str, str]]:
    """Number and hash the drafts among `heads` (all of one period) in one transaction."""
    # the billing run locks (tenant, period) first and rows second: same order here
    await inv_repo.lock_tenant_periods(conn, [h["tenant_id"] for h in heads], heads[0]["period"])
    rows = await inv_repo.lock_drafts(conn, [h["id"] for h in heads])
    if not rows:
        return []
    at, year = await _year(conn)
    first = await inv_repo.reserve_numbers(conn, "INV", year, len(rows))
    lines: dict[int, list[Any]] = defaultdict(list)
    for ln in await inv_repo.lines(conn, [r["id"] for r in rows]):
        lines[ln["invoice_id"]].append(ln)
    issued = []
    for n, inv in enumerate(rows):
        number = f"INV-{year}-{first + n:06d}"
        digest = content_hash(_hash_header(inv, number, at), _hash_lines(lines[inv["id"]]))
        issued.append((inv["id"], number, digest))
    await inv_repo.mark_finalized_many(conn, issued, at)
    return issued


async def verify(pool: Pool, invoice_id: int) -> bool:
    """Whether an issued invoice still matches its stored content hash."""
    async with pool.acquire() as conn:
        inv = await _invoice(conn, invoice_id)
        if inv["content_hash"] is None:
            return False
        got = content_hash(
            _hash_header(inv, inv["number"], inv["finalized_at"]),
            _hash_lines(await inv_repo.lines(conn, [invoice_id])),
        )
        return bool(got == inv["content_hash"])


def _hash_header(inv: Any, number: str, at: Any) -> dict[str, object]:
    # The header columns as stored, plus the period; content_hash sorts keys, so order is moot.
    keys = ("period", *inv_repo.HEADER_COLUMNS)
    return {**{k: inv[k] for k in keys}, "number": number, "finalized_at": at.isoformat()}


def _hash_lines(rows: list[Any]) -> list[dict[str, object]]:
    return [{k: v for k, v in dict(r).items() if k != "invoice_id"} for r in rows]


async def mark_paid(pool: Pool, invoice_id: int) -> None:
    """Record payment of a finalized invoice."""
    await _transition(pool, invoice_id, "paid", None)


async def void(pool: Pool, invoice_id: int, reason: str) -> None:
    """Void a finalized invoice (its number stays used); the period can then be billed again."""
    if not reason.strip():
        raise BillingError("voiding needs a reason")
    await _transition(pool, invoice_id, "void", reason)


async def _transition(pool: Pool, invoice_id: int, status: str, reason: str | None) -> None:
    async with transaction(pool) as conn:
        inv = await _invoice(conn, invoice_id, lock=True)
        if inv["status"] != "finalized":
            raise InvoiceStateError(
                f"invoice {invoice_id} is {inv['status']}: only finalized invoices become {status}"
            )
        await inv_repo.set_status(conn, invoice_id, status, reason)


async def credit_note(pool: Pool, invoice_id: int, note: CreditNoteIn) -> dict[str, Any]:
    """Issue a credit note against a finalized or paid invoice (never more than it billed)."""
    if not note.reason.strip() or not note.lines or any(ln.amount <= 0 for ln in note.lines):
        raise BillingError("a credit note needs a reason and lines with positive amounts")
    async with transaction(pool) as conn:
        inv = await _invoice(conn, invoice_id, lock=True)
        if inv["status"] not in ("finalized", "paid"):
            raise InvoiceStateError(f"invoice {invoice_id} is {inv['status']}: nothing to credit")
        t = await _credit_totals(conn, inv, note)
        number = await _number(conn, "CN")
        body = [ln.model_dump(mode="json") for ln in note.lines]
        values = {
            "invoice_id": invoice_id,
            "number": number,
            "reason": note.reason,
            "currency": inv["currency"],
            "lines": body,
            "subtotal": t.subtotal,
            "vat": t.vat,
            "total": t.total,
        }
        values["content_hash"] = content_hash({**values, "invoice": inv["number"]}, body)
        return dict(await credit_repo.insert_credit_note(conn, values))


async def _credit_totals(conn: Connection, inv: Any, note: CreditNoteIn) -> Totals:
    """Totals of a credit note, checked against the invoice's VAT rates and what is left."""
    rates = {r["vat_rate"] for r in await inv_repo.lines(conn, [inv["id"]])}
    lines = [Line("one_off", ln.description, ln.amount, ln.vat_rate) for ln in note.lines]
    if bad := {ln.vat_rate for ln in lines} - rates:
        raise BillingError(f"VAT rates {sorted(map(str, bad))} do not appear on the invoice")
    t = totals(lines)
    if t.subtotal + await credit_repo.credited(conn, inv["id"]) > inv["subtotal"]:
        raise BillingError("credit notes would exceed the invoice's subtotal")
    return t


async def _year(conn: Connection) -> tuple[Any, int]:
    """The transaction time and the seller's calendar year at that time."""
    at = await conn.fetchval("SELECT now()")
    return at, at.astimezone(ZoneInfo(SELLER_TIMEZONE)).year


async def _number(conn: Connection, series: str) -> str:
    """The next gapless number of a series in the seller's current year, e.g. CN-2026-000001."""
    _, year = await _year(conn)
    return f"{series}-{year}-{await inv_repo.reserve_numbers(conn, series, year, 1):06d}"


async def list_credit_notes(
    pool: Pool, invoice_id: int, tenant_id: str | None = None
) -> list[dict[str, Any]]:
    """Credit notes of an invoice (NotFound for another tenant's invoice)."""
    async with pool.acquire() as conn:
        inv = await _invoice(conn, invoice_id)
        if tenant_id is not None and inv["tenant_id"] != tenant_id:
            raise NotFound(f"invoice {invoice_id} not found")
        return [dict(r) for r in await credit_repo.credit_notes(conn, invoice_id)]
