"""PDF and CSV rendering from plain invoice dicts (no database)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from billing.documents import invoice_pdf
from billing.ledger import CSV_COLUMNS, lines_csv


def invoice() -> dict[str, Any]:
    line = {
        "invoice_id": 7,
        "line_no": 1,
        "kind": "recurring",
        "quantity": Decimal(70),
        "description": "巡检机器人监测 <flat> & more: 70 device-days / 30 days",
        "unit_price": None,
        "amount": 70000,
        "currency": "CNY",
        "vat_rate": Decimal("0.06"),
        "usage_type": None,
        "usage_period": None,
    }
    return {
        "id": 7,
        "number": "INV-2026-000042",
        "status": "finalized",
        "period": "2026-11",
        "tenant_id": "acme",
        "currency": "CNY",
        "subtotal": 70000,
        "vat": 4200,
        "total": 74200,
        "vat_breakdown": {"0.06": 4200},
        "buyer_name": "国网 A&B <变电站>",
        "buyer_tax_id": "9131",
        "buyer_address": None,
        "seller_name": "Servitize",
        "seller_tax_id": "9111",
        "seller_address": "上海",
        "content_hash": "ab" * 32,
        "lines": [line],
    }


def test_pdf_renders_chinese_and_markup_characters() -> None:
    pdf = invoice_pdf(invoice(), compress=False)
    # a TrueType font is embedded (FontFile2), not a viewer-provided CID font
    assert pdf.startswith(b"%PDF") and b"FontFile2" in pdf and b"STSong-Light" not in pdf
    assert b"INV-2026-000042" in pdf
    draft = {**invoice(), "number": None, "status": "draft", "content_hash": None}
    assert b"DRAFT 7" in invoice_pdf(draft, compress=False)


def test_csv_has_one_row_per_line_with_its_invoice() -> None:
    inv = invoice()
    rows = list(csv.reader(io.StringIO(lines_csv([inv], []))))
    assert rows[0] == list(CSV_COLUMNS)
    row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    # major units of the currency, with the line's VAT and total
    assert (row["number"], row["amount"], row["vat_rate"], row["unit_price"]) == (
        "INV-2026-000042",
        "700.00",
        "0.06",
        "",
    )
    assert (row["vat"], row["total"], row["currency"]) == ("42.00", "742.00", "CNY")
    assert row["description"].startswith("巡检机器人监测 <flat> &")
    totals = dict(zip(CSV_COLUMNS, rows[2], strict=True))
    assert (totals["record"], totals["amount"], totals["vat"], totals["total"]) == (
        "invoice",
        "700.00",
        "42.00",
        "742.00",
    )
