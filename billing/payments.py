"""Payments against issued invoices (partial payments add up), due dates and overdue status.

An invoice is issued with a due date (finalization date in the seller's zone + payment terms).
What is due = total − credit notes − payments. Payments never exceed what is due; the one
that settles it marks the invoice paid. Past its due date with something due, an invoice is
overdue: shown as `payment_status`, and `flag_overdue` records one `overdue` event for it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from billing import event_repository as event_repo
from billing import invoice_repository as inv_repo
from billing import payment_repository as pay_repo
from billing.errors import BillingError, InvoiceStateError, NotFound
from billing.invoice_schemas import PaymentIn
from billing.invoice_service import load_invoice
from billing.money import to_major, to_minor_int
from servitize.db import Pool, transaction

SELLER_TIMEZONE = "Asia/Shanghai"


def seller_today(now: datetime | None = None) -> date:
    """Today in the seller's zone (due dates are dates there)."""
    return (
        (now or datetime.now(ZoneInfo(SELLER_TIMEZONE)))
        .astimezone(ZoneInfo(SELLER_TIMEZONE))
        .date()
    )


def payment_status(inv: dict[str, Any], paid: int, credited: int, today: date) -> str:
    """draft | void | paid | overdue | partially_paid | unpaid."""
    if inv["status"] in ("draft", "void", "paid"):
        return str(inv["status"])
    due = inv["total"] - paid - credited
    if due <= 0:
        return "paid"
    if inv.get("due_date") is not None and inv["due_date"] < today:
        return "overdue"
    return "partially_paid" if paid else "unpaid"


async def record_payment(pool: Pool, invoice_id: int, payment: PaymentIn) -> dict[str, Any]:
    """Record a payment of an issued invoice; settles it (status paid) when nothing is left."""
    async with transaction(pool) as conn:
        inv = await load_invoice(conn, invoice_id, lock=True)
        if inv["status"] != "finalized":
            raise InvoiceStateError(f"invoice {invoice_id} is {inv['status']}: nothing to pay")
        cur = inv["currency"]
        try:
            amount = to_minor_int(payment.amount, cur)
        except ValueError as exc:
            raise BillingError(f"amount: {exc}") from exc
        paid, credited = (await pay_repo.settled(conn, [invoice_id]))[invoice_id]
        left = inv["total"] - paid - credited
        if amount > left:
            raise BillingError(
                f"payment of {to_major(amount, cur)} {cur} exceeds what is due "
                f"({to_major(max(left, 0), cur)} {cur})"
            )
        row = await pay_repo.insert_payment(
            conn,
            {
                "invoice_id": invoice_id,
                "amount": amount,
                "currency": cur,
                "paid_on": payment.paid_on,
                "reference": payment.reference,
            },
        )
        body = {
            "amount": to_major(amount, cur),
            "currency": cur,
            "left": to_major(left - amount, cur),
        }
        events = [(invoice_id, inv["tenant_id"], "payment", body)]
        if amount == left:
            await inv_repo.set_status(conn, invoice_id, "paid", None)
            events.append((invoice_id, inv["tenant_id"], "paid", {"number": inv["number"]}))
        await event_repo.record(conn, events)
        return dict(row)


async def settle(pool: Pool, invoice_id: int, paid_on: date | None = None) -> None:
    """Record payment of whatever is still due (the `paid` shortcut)."""
    async with pool.acquire() as conn:
        inv = await load_invoice(conn, invoice_id)
        paid, credited = (await pay_repo.settled(conn, [invoice_id]))[invoice_id]
    if inv["status"] != "finalized":
        raise InvoiceStateError(
            f"invoice {invoice_id} is {inv['status']}: only finalized invoices become paid"
        )
    left = inv["total"] - paid - credited
    if left > 0:
        amount = Decimal(to_major(left, inv["currency"]))
        day = paid_on or seller_today()
        await record_payment(pool, invoice_id, PaymentIn(amount=amount, paid_on=day))
        return
    async with transaction(pool) as conn:  # credited in full: nothing to pay
        await load_invoice(conn, invoice_id, lock=True)
        await inv_repo.set_status(conn, invoice_id, "paid", None)
        await event_repo.record(
            conn, [(invoice_id, inv["tenant_id"], "paid", {"number": inv["number"]})]
        )


async def list_payments(pool: Pool, invoice_id: int, tenant_id: str | None) -> list[dict[str, Any]]:
    """Payments of an invoice (NotFound for another tenant's)."""
    async with pool.acquire() as conn:
        inv = await load_invoice(conn, invoice_id)
        if tenant_id is not None and inv["tenant_id"] != tenant_id:
            raise NotFound(f"invoice {invoice_id} not found")
        return [dict(r) for r in await pay_repo.payments(conn, invoice_id)]


async def flag_overdue(pool: Pool, today: date | None = None) -> list[dict[str, Any]]:
    """Record one `overdue` event per invoice newly past due; returns those invoices."""
    async with transaction(pool) as conn:
        rows = [dict(r) for r in await pay_repo.overdue(conn, today or seller_today())]
        await event_repo.record(
            conn,
            [
                (
                    r["id"],
                    r["tenant_id"],
                    "overdue",
                    {
                        "number": r["number"],
                        "due_date": str(r["due_date"]),
                        "outstanding": to_major(r["outstanding"], r["currency"]),
                        "currency": r["currency"],
                    },
                )
                for r in rows
            ],
        )
    return rows


async def events_after(
    pool: Pool, after: int, tenant_id: str | None, limit: int = 100
) -> list[dict[str, Any]]:
    """Invoice events after an id (a tenant key: its own), oldest first."""
    async with pool.acquire() as conn:
        return [dict(r) for r in await event_repo.events_after(conn, after, tenant_id, limit)]
