"""Prepaid credit: a wallet per tenant, filled by top-ups, consumed by issued invoices.

When invoices are issued, each is paid from its tenant's top-ups in the invoice's currency
that have not expired on the issue date, soonest expiry first (then oldest): one payment
("prepaid credit") per invoice, never more than its total. What is left of a top-up after
its expiry date is not used. Top-ups are prepayments (not invoiced themselves).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from billing import event_repository as event_repo
from billing import invoice_repository as inv_repo
from billing import payment_repository as pay_repo
from billing import wallet_repository as wallet_repo
from billing.errors import BillingError, NotFound
from billing.invoice_schemas import TopUpIn
from billing.money import to_major, to_minor_int
from billing.payments import seller_today
from registry import service as registry
from servitize.db import Connection, Pool, transaction


def allocate(due: int, available: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(top-up, amount) taken in the order given until `due` is covered."""
    out = []
    for topup, left in available:
        if due <= 0:
            break
        take = min(left, due)
        if take > 0:
            out.append((topup, take))
            due -= take
    return out


async def top_up(pool: Pool, tenant_id: str, body: TopUpIn) -> dict[str, Any]:
    """Record a prepayment into a tenant's wallet."""
    try:
        amount = to_minor_int(body.amount, body.currency)
    except ValueError as exc:
        raise BillingError(f"amount: {exc}") from exc
    async with transaction(pool) as conn:
        if not await registry.tenant_exists(conn, tenant_id):
            raise NotFound(f"tenant {tenant_id} not found")
        values = {**body.model_dump(), "tenant_id": tenant_id, "amount": amount}
        return dict(await wallet_repo.insert_topup(conn, values))


async def balance(pool: Pool, tenant_id: str, on: date | None = None) -> dict[str, Any]:
    """What a tenant can still spend, per currency, in major units."""
    async with pool.acquire() as conn:
        if not await registry.tenant_exists(conn, tenant_id):
            raise NotFound(f"tenant {tenant_id} not found")
        async with conn.transaction():
            rows = await wallet_repo.remaining(conn, [tenant_id], on or seller_today())
    sums: dict[str, int] = defaultdict(int)
    for r in rows:
        sums[r["currency"].strip()] += r["left"]
    return {
        "tenant_id": tenant_id,
        "balances": {cur: to_major(v, cur) for cur, v in sorted(sums.items())},
    }


async def apply(conn: Connection, invoices: list[Any], on: date) -> None:
    """Pay just-issued invoices from their tenants' prepaid credit (caller's transaction)."""
    left: dict[str, list[list[Any]]] = defaultdict(list)
    for r in await wallet_repo.remaining(conn, sorted({i["tenant_id"] for i in invoices}), on):
        left[r["tenant_id"]].append([r["id"], r["currency"].strip(), r["left"]])
    for inv in sorted(invoices, key=lambda i: i["id"]):
        usable = [t for t in left.get(inv["tenant_id"], []) if t[1] == inv["currency"].strip()]
        takes = allocate(inv["total"], [(t[0], t[2]) for t in usable])
        if takes:
            taken = dict(takes)
            for t in usable:
                t[2] -= taken.get(t[0], 0)
            await _pay(conn, inv, takes, on)


async def _pay(conn: Connection, inv: Any, takes: list[tuple[int, int]], on: date) -> None:
    amount, cur = sum(a for _, a in takes), inv["currency"].strip()
    await wallet_repo.insert_uses(conn, [(t, inv["id"], a) for t, a in takes])
    payment = {"invoice_id": inv["id"], "amount": amount, "currency": cur, "paid_on": on}
    await pay_repo.insert_payment(conn, {**payment, "reference": "prepaid credit"})
    body = {"amount": to_major(amount, cur), "currency": cur, "from": "prepaid credit"}
    events = [(inv["id"], inv["tenant_id"], "payment", body)]
    if amount == inv["total"]:
        await inv_repo.set_status(conn, inv["id"], "paid", None)
        events.append((inv["id"], inv["tenant_id"], "paid", {"from": "prepaid credit"}))
    await event_repo.record(conn, events)
