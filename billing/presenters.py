"""Stored invoices, credit notes and reports in the outside form of money: decimal strings in
major units of the currency (billing.money), for the API, the CLI and the documents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing.invoice_math import line_vats
from billing.money import minor_unit, to_major
from billing.payments import payment_status, seller_today

INVOICE_AMOUNTS = ("subtotal", "vat", "total")
# Amounts inside a line's `detail` (stored in minor units), shown in major units too.
DETAIL_AMOUNTS = frozenset(
    (
        "monthly_price",
        "unit_price",
        "term_charge",
        "billed_before",
        "month_share",
        "minimum",
        "billed",
    )
)


def detail(value: Any, currency: str) -> Any:
    """A line's detail with its amounts in major units (nested rows included)."""
    if isinstance(value, list):
        return [detail(v, currency) for v in value]
    if isinstance(value, dict):
        return {
            k: to_major(Decimal(str(v)), currency)
            if k in DETAIL_AMOUNTS and v is not None
            else detail(v, currency)
            for k, v in value.items()
        }
    return value


def vat_by_rate(stored: dict[str, Any]) -> dict[Decimal, int]:
    """A stored {"0.06": 600} breakdown with Decimal keys."""
    return {Decimal(k): int(v) for k, v in stored.items()}


def invoice(inv: dict[str, Any]) -> dict[str, Any]:
    """An invoice (with its lines, if loaded) with amounts in major units."""
    cur = inv["currency"]
    out = {**inv, **{k: to_major(inv[k], cur) for k in INVOICE_AMOUNTS}}
    out["minor_unit"] = minor_unit(cur)
    out["vat_breakdown"] = {k: to_major(int(v), cur) for k, v in inv["vat_breakdown"].items()}
    paid, credited = inv.get("paid", 0), inv.get("credited", 0)
    due = inv["total"] - paid - credited if inv["status"] == "finalized" else 0
    out["amount_paid"], out["amount_credited"] = to_major(paid, cur), to_major(credited, cur)
    out["amount_due"] = to_major(max(due, 0), cur)
    out["payment_status"] = payment_status(inv, paid, credited, seller_today())
    if inv.get("lines") is not None:
        out["lines"] = lines(inv)
    return out


def lines(inv: dict[str, Any]) -> list[dict[str, Any]]:
    """An invoice's lines in major units, each with its share of the VAT."""
    cur, rows = inv["currency"], inv["lines"]
    vats = line_vats(
        [(ln["amount"], Decimal(ln["vat_rate"])) for ln in rows], vat_by_rate(inv["vat_breakdown"])
    )
    return [
        {
            **ln,
            "amount": to_major(ln["amount"], cur),
            "unit_price": None if ln["unit_price"] is None else to_major(ln["unit_price"], cur),
            "vat": to_major(vat, cur),
            "detail": detail(ln.get("detail") or {}, cur),
        }
        for ln, vat in zip(rows, vats, strict=True)
    ]


def payment(row: dict[str, Any]) -> dict[str, Any]:
    """A payment with its amount in major units."""
    return {**row, "amount": to_major(row["amount"], row["currency"])}


def credit_note(note: dict[str, Any]) -> dict[str, Any]:
    """A credit note with amounts (and its lines') in major units."""
    cur = note["currency"]
    out = {**note, **{k: to_major(note[k], cur) for k in INVOICE_AMOUNTS}}
    out["vat_breakdown"] = {k: to_major(int(v), cur) for k, v in note["vat_breakdown"].items()}
    out["lines"] = [{**ln, "amount": to_major(int(ln["amount"]), cur)} for ln in note["lines"]]
    return out
