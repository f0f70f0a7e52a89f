"""The invoice life cycle: draft -> finalized -> paid | void, and credit notes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from billing import credit_repository as credit_repo
from billing import event_repository as event_repo
from billing import invoice_repository as inv_repo
from billing import payments, wallet
from billing.errors import BillingError, InvoiceStateError, NotFound
from billing.invoice_math import Credited, Totals, content_hash, credit_note_totals
from billing.invoice_schemas import CreditNoteIn, CreditNoteLineIn
from billing.invoice_service import CHUNK
from billing.invoice_service import load_invoice as _invoice
from billing.models import Period
from billing.money import format_money, to_major, to_minor_int
from servitize.db import Connection, Pool, transaction
from servitize.settings import get_settings

# Invoice numbers count per calendar year of the seller, who issues in China.
SELLER_TIMEZONE = "Asia/Shanghai"

Progress = Callable[[int, int], None]


async def finalize(pool: Pool, invoice_id: int, force_reason: str | None = None) -> dict[str, Any]:
    """Issue a draft: gapless number of the year, content hash; it never changes afterwards.

    A period that has not ended yet is refused unless forced with a reason (kept on it)."""
    async with transaction(pool) as conn:
        head = await _invoice(conn, invoice_id)
        if head["status"] == "draft":
            await _check_ended(conn, [head], force_reason)
        if not await _issue(conn, [head], force_reason):
            inv = await _invoice(conn, invoice_id)
            raise InvoiceStateError(f"invoice {invoice_id} is {inv['status']}, not a draft")
        return dict(await _invoice(conn, invoice_id))


async def finalize_period(
    pool: Pool, period: Period, progress: Progress | None = None, force_reason: str | None = None
) -> list[tuple[int, str, str]]:
    """Issue every draft of a period, numbered in tenant order; (id, number, hash) each.
    A period that has not ended for some tenant is refused unless forced with a reason."""
    async with pool.acquire() as conn:
        drafts = await inv_repo.invoices(conn, str(period), None, "draft")
        await _check_ended(conn, drafts, force_reason)
    issued: list[tuple[int, str, str]] = []
    for i in range(0, len(drafts), CHUNK):
        async with transaction(pool) as conn:
            issued += await _issue(conn, drafts[i : i + CHUNK], force_reason)
        if progress:
            progress(min(i + CHUNK, len(drafts)), len(drafts))
    return issued


async def _check_ended(conn: Connection, heads: list[Any], force_reason: str | None) -> None:
    """InvoiceStateError when a period has not ended yet and no reason forces it."""
    if force_reason is not None:
        if not force_reason.strip():
            raise BillingError("forcing an early finalization needs a reason")
        return
    now = await conn.fetchval("SELECT now()")
    running = [h for h in heads if now < _period_end(h)]
    if running:
        h = running[0]
        raise InvoiceStateError(
            f"period {h['period']} of tenant {h['tenant_id']} has not ended (it ends "
            f"{_period_end(h).astimezone(UTC):%Y-%m-%d %H:%M} UTC): finalize it afterwards, "
            "or force it with a reason"
        )


def _period_end(head: Any) -> datetime:
    """The end of the invoice's period: as recorded, else local midnight in the seller's zone."""
    end: datetime | None = head["period_end"]
    if end is None:
        end = Period.parse(head["period"]).bounds(head["timezone"] or SELLER_TIMEZONE)[1]
    return end


async def _issue(
    conn: Connection, heads: list[Any], force_reason: str | None = None
) -> list[tuple[int, str, str]]:
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
    due = at.astimezone(ZoneInfo(SELLER_TIMEZONE)).date() + timedelta(
        days=get_settings().billing_payment_terms_days
    )
    await inv_repo.mark_finalized_many(conn, issued, at, force_reason, due)
    await wallet.apply(conn, list(rows), at.astimezone(ZoneInfo(SELLER_TIMEZONE)).date())
    await event_repo.record(
        conn,
        [
            (inv["id"], inv["tenant_id"], "issued", {"number": number, "due_date": str(due)})
            for inv, (_, number, _) in zip(rows, issued, strict=True)
        ],
    )
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
    kept = {k: inv[k] for k in keys if k not in inv_repo.LATER_HEADER_COLUMNS or inv[k] is not None}
    return {**kept, "number": number, "finalized_at": at.isoformat()}


def _hash_lines(rows: list[Any]) -> list[dict[str, object]]:
    return [{k: v for k, v in dict(r).items() if k != "invoice_id"} for r in rows]


async def mark_paid(pool: Pool, invoice_id: int) -> None:
    """Record payment of whatever a finalized invoice still has due (it becomes paid)."""
    await payments.settle(pool, invoice_id)


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
        kind = "voided" if status == "void" else status
        await event_repo.record(conn, [(invoice_id, inv["tenant_id"], kind, {"reason": reason})])


async def credit_note(pool: Pool, invoice_id: int, note: CreditNoteIn) -> dict[str, Any]:
    """Issue a credit note against a finalized or paid invoice: per VAT rate never more than
    it billed (base and VAT), nor more in total. The invoice row is locked, so concurrent
    notes are checked one after the other."""
    if not note.reason.strip() or not note.lines:
        raise BillingError("a credit note needs a reason and lines with positive amounts")
    async with transaction(pool) as conn:
        inv = await _invoice(conn, invoice_id, lock=True)
        if inv["status"] not in ("finalized", "paid"):
            raise InvoiceStateError(f"invoice {invoice_id} is {inv['status']}: nothing to credit")
        body = [_note_line(ln, inv["currency"]) for ln in note.lines]
        t = await _credit_totals(conn, inv, body)
        number = await _number(conn, "CN")
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
        values["vat_breakdown"] = t.vat_by_rate
        stored = dict(await credit_repo.insert_credit_note(conn, values))
        payload = {"credit_note": number, "total": to_major(t.total, inv["currency"])}
        await event_repo.record(conn, [(invoice_id, inv["tenant_id"], "credited", payload)])
        return stored


def _note_line(line: CreditNoteLineIn, currency: str) -> dict[str, Any]:
    """A credit note line as stored: amount in minor units (positive), rate as text."""
    try:
        amount = to_minor_int(line.amount, currency)
    except ValueError as exc:
        raise BillingError(f"credit note line {line.description!r}: {exc}") from exc
    if amount <= 0:
        raise BillingError("a credit note needs a reason and lines with positive amounts")
    return {"description": line.description, "amount": amount, "vat_rate": str(line.vat_rate)}


async def _credit_totals(conn: Connection, inv: Any, body: list[dict[str, Any]]) -> Totals:
    """Totals of a credit note, checked per rate against the invoice and earlier notes."""
    billed: dict[Decimal, int] = defaultdict(int)
    for r in await inv_repo.lines(conn, [inv["id"]]):
        billed[Decimal(r["vat_rate"])] += r["amount"]
    note: dict[Decimal, int] = defaultdict(int)
    for ln in body:
        note[Decimal(ln["vat_rate"])] += ln["amount"]
    if bad := note.keys() - billed.keys():
        raise BillingError(f"VAT rates {sorted(map(str, bad))} do not appear on the invoice")
    invoice = Credited(dict(billed), _by_rate(inv["vat_breakdown"]))
    earlier = _credited(await credit_repo.credited(conn, inv["id"]))
    cur = inv["currency"]
    try:
        return credit_note_totals(invoice, earlier, note, lambda v: format_money(v, cur))
    except ValueError as exc:
        raise BillingError(str(exc)) from exc


def _by_rate(stored: dict[str, Any]) -> dict[Decimal, int]:
    return {Decimal(k): int(v) for k, v in stored.items()}


def _credited(notes: list[Any]) -> Credited:
    """Base and VAT per rate already credited (a note stored before per-rate VAT was kept
    counts its VAT at its first rate)."""
    base: dict[Decimal, int] = defaultdict(int)
    vat: dict[Decimal, int] = defaultdict(int)
    for n in notes:
        rates = [Decimal(ln["vat_rate"]) for ln in n["lines"]]
        for ln, rate in zip(n["lines"], rates, strict=True):
            base[rate] += int(ln["amount"])
        for rate, v in (_by_rate(n["vat_breakdown"]) or {rates[0]: n["vat"]}).items():
            vat[rate] += v
    return Credited(dict(base), dict(vat))


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
