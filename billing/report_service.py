"""Finance outputs: a period's lines as CSV, an invoice as PDF, recurring revenue and MRR."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from billing import credit_repository as credit_repo
from billing import documents, invoice_service, ledger, revenue
from billing import invoice_repository as inv_repo
from billing import report_repository as report_repo
from billing.errors import BillingError, NotFound
from billing.models import Period
from billing.money import to_major
from servitize.db import Pool
from servitize.settings import Settings

ISSUED = ["finalized", "paid"]


async def period_csv(pool: Pool, period: Period, tenant_id: str | None = None) -> str:
    """The period's live invoices (drafts included, void left out) as CSV: every line with
    its VAT, each invoice's totals, and the credit notes issued against them."""
    async with pool.acquire() as conn:
        heads = [
            dict(r)
            for r in await inv_repo.invoices(conn, str(period), tenant_id, None)
            if r["status"] != "void"
        ]
        rows = await inv_repo.lines(conn, [h["id"] for h in heads])
        notes = [dict(n) for h in heads for n in await credit_repo.credit_notes(conn, h["id"])]
    by_invoice: dict[int, list[dict[str, Any]]] = {h["id"]: [] for h in heads}
    for r in rows:
        by_invoice[r["invoice_id"]].append(dict(r))
    return ledger.lines_csv([{**h, "lines": by_invoice[h["id"]]} for h in heads], notes)


async def invoice_pdf(
    pool: Pool, invoice_id: int, tenant_id: str | None = None
) -> tuple[str, bytes]:
    """The invoice as a PDF statement and its file name (NotFound for another tenant's)."""
    inv = await invoice_service.get_invoice(pool, invoice_id, tenant_id)
    settings = Settings()
    name = inv["number"] or f"DRAFT-{inv['id']}"
    return f"{name}.pdf", documents.invoice_pdf(inv, seller=documents.SellerExtras.of(settings))


async def credit_note_pdf(
    pool: Pool, invoice_id: int, note_id: int, tenant_id: str | None = None
) -> tuple[str, bytes]:
    """A credit note as PDF with its file name (NotFound if not of that invoice)."""
    inv = await invoice_service.get_invoice(pool, invoice_id, tenant_id)
    async with pool.acquire() as conn:
        notes = [dict(n) for n in await credit_repo.credit_notes(conn, invoice_id)]
    note = next((n for n in notes if n["id"] == note_id), None)
    if note is None:
        raise NotFound(f"credit note {note_id} of invoice {invoice_id} not found")
    extras = documents.SellerExtras.of(Settings())
    return f"{note['number']}.pdf", documents.credit_note_pdf(inv, note, seller=extras)


async def revenue_report(
    pool: Pool,
    first: Period,
    last: Period,
    tenant_id: str | None = None,
    include_drafts: bool = False,
) -> dict[str, Any]:
    """Recurring revenue per month, plan and tenant, and MRR with its movement per month."""
    if str(first) > str(last):
        raise BillingError(f"report range {first} .. {last} is backwards")
    statuses = [*ISSUED, "draft"] if include_drafts else ISSUED
    async with pool.acquire() as conn:
        # the month before the range is read so the first month's movement is real
        before = first.previous() if first > Period(1970, 1) else first
        rows = await report_repo.recurring_revenue(
            conn, str(before), str(last), tenant_id, statuses
        )
    amounts: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["period"], r["tenant_id"])
        amounts[key] = amounts.get(key, 0) + (r["recurring"] or 0)
    months = [m for m in revenue.movements(amounts) if m.period >= str(first)]
    currencies = sorted({r["currency"].strip() for r in rows})
    if len(currencies) > 1:
        raise BillingError(f"the report mixes currencies {currencies}: ask per tenant")
    cur = currencies[0] if currencies else "CNY"
    return {
        "currency": cur,
        "rows": [_revenue_row(r) for r in rows if r["period"] >= str(first)],
        "months": [_month(asdict(m), cur) for m in months],
        "statuses": statuses,
    }


def _revenue_row(row: Any) -> dict[str, Any]:
    cur = row["currency"].strip()
    money = {k: to_major(row[k] or 0, cur) for k in ("recurring", "sla_credits")}
    return {**dict(row), "currency": cur, **money}


def _month(month: dict[str, Any], cur: str) -> dict[str, Any]:
    amounts = ("mrr", "new", "expansion", "contraction", "churn")
    return {**month, **{k: to_major(month[k], cur) for k in amounts}}
