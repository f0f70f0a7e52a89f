"""Billing runs and the invoice life cycle: draft -> finalized -> paid | void, credit notes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from billing import invoice_repository as inv_repo
from billing import metering
from billing import repository as repo
from billing.errors import BillingError, InvoiceStateError, NotFound
from billing.invoice_math import Totals, content_hash, totals
from billing.models import Line, Period
from billing.schemas import CreditNoteIn, RunResult
from servitize.db import Connection, Pool, transaction

# Invoice numbers count per calendar year of the seller, who issues in China.
SELLER_TIMEZONE = "Asia/Shanghai"
# Tenants written per transaction: big enough for bulk statements, small enough to keep
# locks short while a concurrent run or finalization waits.
CHUNK = 500

Progress = Callable[[int, int], None]


async def run_period(
    pool: Pool,
    period: Period,
    tenant_ids: list[str] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Create or regenerate the period's draft invoices; issued invoices are never touched."""
    bills, seller, stale = await _gather(pool, period, tenant_ids)
    result = RunResult(period=str(period), drafts=0, skipped_issued=0, removed_empty=0, lines=0)
    tenants = sorted(bills)
    for i in range(0, len(tenants), CHUNK):
        async with transaction(pool) as conn:
            await _write_chunk(
                conn, period, [bills[t] for t in tenants[i : i + CHUNK]], seller, result
            )
        if progress:
            progress(min(i + CHUNK, len(tenants)), len(tenants))
    if stale:
        async with transaction(pool) as conn:
            await inv_repo.lock_tenant_periods(conn, stale, str(period))
            result.removed_empty = await inv_repo.delete_drafts(conn, stale, str(period))
    return result


async def _gather(
    pool: Pool, period: Period, tenant_ids: list[str] | None
) -> tuple[dict[str, metering.Bill], dict[str, Any], list[str]]:
    """Price everything from one consistent snapshot; also name drafts with nothing to bill."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        plans = {p.id: p.to_model() for p in await repo.plans(conn)}
        bills = await metering.collect(conn, period, tenant_ids, plans)
        seller = dict(await inv_repo.seller(conn))
        drafts = {r["tenant_id"] for r in await inv_repo.invoices(conn, str(period), None, "draft")}
    stale = sorted(t for t in drafts - bills.keys() if tenant_ids is None or t in tenant_ids)
    return bills, seller, stale


async def _write_chunk(
    conn: Connection,
    period: Period,
    chunk: list[metering.Bill],
    seller: dict[str, Any],
    result: RunResult,
) -> None:
    await inv_repo.lock_tenant_periods(conn, [b.tenant_id for b in chunk], str(period))
    ids = await inv_repo.upsert_drafts(conn, str(period), [_header(b, seller) for b in chunk])
    await inv_repo.delete_lines(conn, list(ids.values()))
    records = [r for b in chunk if b.tenant_id in ids for r in _records(ids[b.tenant_id], b)]
    await inv_repo.insert_lines(conn, records)
    result.drafts += len(ids)
    result.skipped_issued += len(chunk) - len(ids)
    result.lines += len(records)


def _header(bill: metering.Bill, seller: dict[str, Any]) -> tuple[Any, ...]:
    t = totals(bill.lines)
    b = bill.buyer
    return (
        bill.tenant_id,
        bill.currency,
        t.subtotal,
        t.vat,
        t.total,
        json.dumps(t.vat_by_rate),
        b["name"],
        b["tax_id"],
        b["address"],
        seller["name"],
        seller["tax_id"],
        seller["address"],
    )


def _records(invoice_id: int, bill: metering.Bill) -> list[tuple[Any, ...]]:
    return [
        (
            invoice_id,
            n,
            ln.kind,
            ln.description,
            ln.quantity,
            ln.unit_price,
            ln.amount,
            bill.currency,
            ln.vat_rate,
            ln.subscription_id,
            bill.plan_of.get(ln.subscription_id or 0),
            ln.usage_type,
            ln.usage_period,
            ln.usage_quantity,
            json.dumps(ln.detail, default=str),
        )
        for n, ln in enumerate(bill.lines, start=1)
    ]


async def finalize(pool: Pool, invoice_id: int) -> dict[str, Any]:
    """Issue a draft: gapless number of the year, content hash; it never changes afterwards."""
    async with transaction(pool) as conn:
        head = await _invoice(conn, invoice_id)
        # the run's lock order is advisory lock, then row: take them in the same order
        await inv_repo.lock_tenant_periods(conn, [head["tenant_id"]], head["period"])
        inv = await _invoice(conn, invoice_id, lock=True)
        if inv["status"] != "draft":
            raise InvoiceStateError(f"invoice {invoice_id} is {inv['status']}, not a draft")
        at = await conn.fetchval("SELECT now()")
        number = await _number(conn, "INV")
        digest = content_hash(
            _hash_header(inv, number, at), _hash_lines(await inv_repo.lines(conn, [invoice_id]))
        )
        await inv_repo.mark_finalized(conn, invoice_id, number, digest, at)
        return dict(await _invoice(conn, invoice_id))


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
    keys = (
        "tenant_id",
        "period",
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
    )
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
        return dict(await inv_repo.insert_credit_note(conn, values))


async def _credit_totals(conn: Connection, inv: Any, note: CreditNoteIn) -> Totals:
    """Totals of a credit note, checked against the invoice's VAT rates and what is left."""
    rates = {r["vat_rate"] for r in await inv_repo.lines(conn, [inv["id"]])}
    lines = [Line("one_off", ln.description, ln.amount, ln.vat_rate) for ln in note.lines]
    if bad := {ln.vat_rate for ln in lines} - rates:
        raise BillingError(f"VAT rates {sorted(map(str, bad))} do not appear on the invoice")
    t = totals(lines)
    if t.subtotal + await inv_repo.credited(conn, inv["id"]) > inv["subtotal"]:
        raise BillingError("credit notes would exceed the invoice's subtotal")
    return t


async def _number(conn: Connection, series: str) -> str:
    """The next gapless number of a series in the seller's current year, e.g. INV-2026-000001."""
    at = await conn.fetchval("SELECT now()")
    year = at.astimezone(ZoneInfo(SELLER_TIMEZONE)).year
    return f"{series}-{year}-{await inv_repo.next_number(conn, series, year):06d}"


async def get_invoice(pool: Pool, invoice_id: int, tenant_id: str | None = None) -> dict[str, Any]:
    """An invoice with its lines; NotFound when it belongs to another tenant."""
    async with pool.acquire() as conn:
        inv = await _invoice(conn, invoice_id)
        if tenant_id is not None and inv["tenant_id"] != tenant_id:
            raise NotFound(f"invoice {invoice_id} not found")
        rows = await inv_repo.lines(conn, [invoice_id])
    return {**dict(inv), "lines": [dict(r) for r in rows]}


async def list_invoices(
    pool: Pool, period: str | None = None, tenant_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Invoice headers."""
    async with pool.acquire() as conn:
        return [dict(r) for r in await inv_repo.invoices(conn, period, tenant_id, status)]


async def _invoice(conn: Connection, invoice_id: int, *, lock: bool = False) -> Any:
    inv = await inv_repo.invoice(conn, invoice_id, lock=lock)
    if inv is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return inv
