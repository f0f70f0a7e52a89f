"""A period's invoices as CSV for finance: lines with their VAT, invoice totals, credit notes.

UTF-8 (the callers add the BOM Excel needs), amounts in major units next to `currency`.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from billing import presenters
from billing.money import minor_unit, to_major

CSV_COLUMNS = (
    "record",
    "invoice_id",
    "number",
    "status",
    "tenant_id",
    "period",
    "line_no",
    "kind",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "vat_rate",
    "vat",
    "total",
    "currency",
    "usage_type",
    "usage_period",
    "invoice_number",
)


# --- CSV --------------------------------------------------------------------------------


def lines_csv(invoices: list[dict[str, Any]], notes: list[dict[str, Any]]) -> str:
    """Per invoice: a row per line (with its VAT share), then an `invoice` row with its
    totals; then a `credit_note` row per note (negative amounts). Major units."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    numbers = {inv["id"]: inv["number"] for inv in invoices}
    for inv in invoices:
        shown = presenters.invoice(inv)
        head = {k: inv[k] for k in ("number", "status", "tenant_id", "period", "currency")}
        for ln in shown["lines"]:
            total = to_major(_minor(ln["amount"], inv) + _minor(ln["vat"], inv), inv["currency"])
            writer.writerow(_row({**ln, **head, "record": "line", "total": total}))
        writer.writerow(_row({**shown, **head, "record": "invoice", "amount": shown["subtotal"]}))
    for note in notes:
        writer.writerow(_row(_note_row(note, numbers.get(note["invoice_id"]))))
    return out.getvalue()


def _minor(major: str, inv: dict[str, Any]) -> int:
    return int(Decimal(major).scaleb(minor_unit(inv["currency"])))


def _note_row(note: dict[str, Any], invoice_number: str | None) -> dict[str, Any]:
    cur = note["currency"]
    return {
        "record": "credit_note",
        "invoice_id": note["invoice_id"],
        "number": note["number"],
        "description": note["reason"],
        "amount": to_major(-note["subtotal"], cur),
        "vat": to_major(-note["vat"], cur),
        "total": to_major(-note["total"], cur),
        "currency": cur,
        "invoice_number": invoice_number,
    }


def _row(values: dict[str, Any]) -> list[Any]:
    if values.get("record") == "invoice":
        values = {**values, "invoice_id": values["id"], "kind": "", "description": "totals"}
    return ["" if values.get(c) is None else values[c] for c in CSV_COLUMNS]
