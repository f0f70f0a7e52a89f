"""Stored invoices, credit notes and reports in the outside form of money: decimal strings in
major units of the currency (billing.money), for the API, the CLI and the documents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing.invoice_math import line_vats
from billing.money import minor_unit, to_major

INVOICE_AMOUNTS = ("subtotal", "vat", "total")


def vat_by_rate(stored: dict[str, Any]) -> dict[Decimal, int]:
    """A stored {"0.06": 600} breakdown with Decimal keys."""
    return {Decimal(k): int(v) for k, v in stored.items()}


def invoice(inv: dict[str, Any]) -> dict[str, Any]:
    """An invoice (with its lines, if loaded) with amounts in major units."""
    cur = inv["currency"]
    out = {**inv, **{k: to_major(inv[k], cur) for k in INVOICE_AMOUNTS}}
    out["minor_unit"] = minor_unit(cur)
    out["vat_breakdown"] = {k: to_major(int(v), cur) for k, v in inv["vat_breakdown"].items()}
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
        }
        for ln, vat in zip(rows, vats, strict=True)
    ]


def credit_note(note: dict[str, Any]) -> dict[str, Any]:
    """A credit note with amounts (and its lines') in major units."""
    cur = note["currency"]
    out = {**note, **{k: to_major(note[k], cur) for k in INVOICE_AMOUNTS}}
    out["vat_breakdown"] = {k: to_major(int(v), cur) for k, v in note["vat_breakdown"].items()}
    out["lines"] = [{**ln, "amount": to_major(int(ln["amount"]), cur)} for ln in note["lines"]]
    return out
