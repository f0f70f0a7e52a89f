"""Billing runs: price a period and write one draft invoice per tenant; invoice queries."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from billing import invoice_repository as inv_repo
from billing import metering
from billing import payment_repository as pay_repo
from billing import repository as repo
from billing import run_repository as run_repo
from billing.errors import NotFound
from billing.invoice_math import totals
from billing.models import Period
from billing.schemas import RunResult, TenantFailure
from registry import service as registry
from servitize.db import Connection, Pool, transaction

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
    """Create or regenerate the period's draft invoices; issued invoices are never touched.

    A tenant that cannot be priced is left out and named in the result (and on the run's
    row in billing_runs); the other tenants are billed."""
    await _check_tenants(pool, tenant_ids)
    collected, seller, stale = await _gather(pool, period, tenant_ids)
    bills = collected.bills
    failed = [TenantFailure(tenant_id=t, error=e) for t, e in sorted(collected.failures.items())]
    result = RunResult(
        period=str(period), drafts=0, skipped_issued=0, removed_empty=0, lines=0, failed=failed
    )
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
    async with transaction(pool) as conn:
        result.run_id = await run_repo.record_run(
            conn, str(period), result.drafts, [f.model_dump() for f in failed]
        )
    return result


async def _check_tenants(pool: Pool, tenant_ids: list[str] | None) -> None:
    """NotFound naming the tenants that do not exist."""
    if tenant_ids is None:
        return
    async with pool.acquire() as conn:
        found = await registry.tenant_details(conn, tenant_ids)
        if missing := sorted(set(tenant_ids) - found.keys()):
            raise NotFound(f"tenants not found: {', '.join(missing)}")


async def _gather(
    pool: Pool, period: Period, tenant_ids: list[str] | None
) -> tuple[metering.Collected, dict[str, Any], list[str]]:
    """Price everything from one consistent snapshot; also name drafts with nothing to bill."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        plans, broken = await repo.plans_checked(conn)
        collected = await metering.collect(conn, period, tenant_ids, plans, broken)
        seller = dict(await inv_repo.seller(conn))
        drafts = {r["tenant_id"] for r in await inv_repo.invoices(conn, str(period), None, "draft")}
    # a failed tenant keeps its last draft (stale, but not silently removed)
    gone = drafts - collected.bills.keys() - collected.failures.keys()
    stale = sorted(t for t in gone if tenant_ids is None or t in tenant_ids)
    return collected, seller, stale


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
    b, bounds = bill.buyer, bill.bounds
    assert bounds is not None, "metering.collect sets every bill's bounds"
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
        bounds.timezone,
        bounds.start,
        bounds.end,
        bounds.until,
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


async def get_invoice(pool: Pool, invoice_id: int, tenant_id: str | None = None) -> dict[str, Any]:
    """An invoice with its lines; NotFound when it belongs to another tenant."""
    async with pool.acquire() as conn:
        inv = await load_invoice(conn, invoice_id)
        if tenant_id is not None and inv["tenant_id"] != tenant_id:
            raise NotFound(f"invoice {invoice_id} not found")
        rows = await inv_repo.lines(conn, [invoice_id])
        paid, credited = (await pay_repo.settled(conn, [invoice_id]))[invoice_id]
    return {**dict(inv), "lines": [dict(r) for r in rows], "paid": paid, "credited": credited}


async def list_invoices(
    pool: Pool, period: str | None = None, tenant_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Invoice headers, with what was paid and credited (minor units)."""
    async with pool.acquire() as conn:
        heads = [dict(r) for r in await inv_repo.invoices(conn, period, tenant_id, status)]
        settled = await pay_repo.settled(conn, [h["id"] for h in heads])
    return [{**h, "paid": settled[h["id"]][0], "credited": settled[h["id"]][1]} for h in heads]


async def load_invoice(conn: Connection, invoice_id: int, *, lock: bool = False) -> Any:
    """An invoice header (FOR UPDATE when lock); NotFound if absent."""
    inv = await inv_repo.invoice(conn, invoice_id, lock=lock)
    if inv is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return inv
