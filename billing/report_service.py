"""Finance outputs: a period's lines as CSV, an invoice as PDF, recurring revenue and MRR."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from billing import documents, invoice_service, revenue
from billing import invoice_repository as inv_repo
from billing import report_repository as report_repo
from billing.errors import BillingError
from billing.models import Period
from servitize.db import Pool

ISSUED = ["finalized", "paid"]


async def period_csv(pool: Pool, period: Period, tenant_id: str | None = None) -> str:
    """Every line of the period's live invoices (drafts included, void left out) as CSV."""
    async with pool.acquire() as conn:
        heads = [
            dict(r)
            for r in await inv_repo.invoices(conn, str(period), tenant_id, None)
            if r["status"] != "void"
        ]
        rows = await inv_repo.lines(conn, [h["id"] for h in heads])
    return documents.lines_csv(heads, [dict(r) for r in rows])


async def invoice_pdf(pool: Pool, invoice_id: int, tenant_id: str | None = None) -> bytes:
    """The invoice as a PDF (NotFound for another tenant's invoice)."""
    inv = await invoice_service.get_invoice(pool, invoice_id, tenant_id)
    return documents.invoice_pdf(inv)


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
        rows = await report_repo.recurring_revenue(
            conn, str(first.previous()), str(last), tenant_id, statuses
        )
    amounts: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["period"], r["tenant_id"])
        amounts[key] = amounts.get(key, 0) + (r["recurring"] or 0)
    months = [m for m in revenue.movements(amounts) if m.period >= str(first)]
    return {
        "rows": [dict(r) for r in rows if r["period"] >= str(first)],
        "months": [asdict(m) for m in months],
        "statuses": statuses,
    }
