"""Finance documents: CSV of a period's invoice lines and a PDF per invoice (reportlab)."""

from __future__ import annotations

import csv
import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing.models import Money

CSV_COLUMNS = (
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
    "currency",
    "vat_rate",
    "usage_type",
    "usage_period",
)
# reportlab's built-in Adobe CID font: renders Chinese names without shipping a font file.
CJK_FONT = "STSong-Light"


def lines_csv(invoices: list[dict[str, Any]], lines: list[dict[str, Any]]) -> str:
    """One CSV row per invoice line, with its invoice's number and status; amounts in fen."""
    heads = {inv["id"]: inv for inv in invoices}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for ln in lines:
        inv = heads[ln["invoice_id"]]
        row = {
            **ln,
            "number": inv["number"],
            "status": inv["status"],
            "tenant_id": inv["tenant_id"],
            "period": inv["period"],
        }
        writer.writerow([row[c] if row[c] is not None else "" for c in CSV_COLUMNS])
    return out.getvalue()


def _font() -> str:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def invoice_pdf(inv: dict[str, Any], *, compress: bool = True) -> bytes:
    """A one-document PDF: seller, buyer, lines, VAT per rate and totals."""
    font = _font()
    style = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    title = ParagraphStyle("title", parent=style, fontSize=15, leading=20)
    cur = inv["currency"]
    number = inv["number"] or f"DRAFT {inv['id']}"
    story: list[Any] = [
        Paragraph(f"Invoice 发票 {number}", title),
        Paragraph(f"Period 账期: {inv['period']} &nbsp; Status: {inv['status']}", style),
        Spacer(1, 8),
        _parties(inv, style),
        Spacer(1, 10),
        _lines_table(inv, style),
        Spacer(1, 10),
        _totals_table(inv, style, cur),
    ]
    if inv.get("content_hash"):
        story.append(Paragraph(f"SHA-256: {inv['content_hash']}", style))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=number, pageCompression=int(compress))
    doc.build(story)
    return buf.getvalue()


def _parties(inv: dict[str, Any], style: ParagraphStyle) -> Table:
    seller = [
        inv["seller_name"],
        f"Tax ID 税号: {inv['seller_tax_id'] or '-'}",
        inv["seller_address"] or "",
    ]
    buyer = [
        inv["buyer_name"],
        f"Tax ID 税号: {inv['buyer_tax_id'] or '-'}",
        inv["buyer_address"] or "",
    ]
    cells = [
        [
            Paragraph("Seller 销售方<br/>" + "<br/>".join(map(escape, seller)), style),
            Paragraph("Buyer 购买方<br/>" + "<br/>".join(map(escape, buyer)), style),
        ]
    ]
    return Table(cells, colWidths=[250, 250])


def _lines_table(inv: dict[str, Any], style: ParagraphStyle) -> Table:
    rows: list[list[Any]] = [["#", "Description 项目", "Qty", "VAT", "Amount 金额"]]
    for ln in inv["lines"]:
        rows.append(
            [
                ln["line_no"],
                Paragraph(escape(ln["description"]), style),
                f"{ln['quantity']}",
                f"{ln['vat_rate'] * 100:.0f} %",
                str(Money(ln["amount"], inv["currency"])),
            ]
        )
    table = Table(rows, colWidths=[25, 285, 55, 40, 95], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _font()),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _totals_table(inv: dict[str, Any], style: ParagraphStyle, cur: str) -> Table:
    rows = [["Subtotal 合计", str(Money(inv["subtotal"], cur))]]
    for rate, fen in sorted(inv["vat_breakdown"].items()):
        rows.append([f"VAT 增值税 {float(rate) * 100:g} %", str(Money(int(fen), cur))])
    rows.append(["Total 价税合计", str(Money(inv["total"], cur))])
    table = Table(rows, colWidths=[405, 95])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _font()),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
            ]
        )
    )
    return table
