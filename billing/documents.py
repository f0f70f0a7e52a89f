"""Finance documents: PDF service statements and credit notes (reportlab).

A statement (账单) is not a fapiao: it carries what finance needs to issue the fapiao from it
(both parties' names and 纳税人识别号, items, quantities, unit prices, amounts, rates, tax,
total in figures and in words). Amounts are major units of the currency (billing.money).
Fonts are embedded: a TrueType font with Chinese glyphs (see `cjk_font_path`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing import presenters
from billing.money import PRICE_EXTRA_DIGITS, format_money, minor_unit, to_major
from billing.pdf_fonts import CJK_FONT, cjk_font, cjk_font_path
from billing.words import cny_in_words

# Statements are dated in the seller's zone (it issues in China).
SELLER_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class SellerExtras:
    """Seller details from settings that the database does not hold."""

    bank: str = ""
    account: str = ""
    payment_terms_days: int = 30
    font: Path | None = None

    @classmethod
    def of(cls, settings: Any) -> SellerExtras:
        return cls(
            settings.billing_seller_bank,
            settings.billing_seller_account,
            settings.billing_payment_terms_days,
            settings.billing_pdf_font,
        )


# --- PDF --------------------------------------------------------------------------------


def _styles(font: str) -> tuple[ParagraphStyle, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=font, fontSize=8.5, leading=11.5)
    return body, ParagraphStyle("title", parent=body, fontSize=15, leading=20)


def invoice_pdf(
    inv: dict[str, Any], *, seller: SellerExtras | None = None, compress: bool = True
) -> bytes:
    """A service statement (账单): parties, dates and terms, lines with unit price and VAT,
    VAT per rate, total in figures and words."""
    extras = seller or SellerExtras()
    font = cjk_font(cjk_font_path(extras.font))
    body, title = _styles(font)
    shown = presenters.invoice(inv)
    number = inv["number"] or f"DRAFT {inv['id']}"
    story: list[Any] = [
        Paragraph(f"服务账单 Service statement {_esc(number)}", title),
        Paragraph("本账单不是发票；开票所需信息见下。This statement is not a fapiao.", body),
        Spacer(1, 6),
        _grid(_dates(inv, extras), [130, 370], font),
        Spacer(1, 6),
        _parties(inv, extras, body),
        Spacer(1, 8),
        _lines_table(shown, body, font),
        Spacer(1, 8),
        _totals(inv, font, inv["subtotal"], inv["vat"], inv["total"], inv["vat_breakdown"]),
    ]
    if inv.get("measured_until"):
        story.append(
            Paragraph(
                f"Provisional: measured up to {inv['measured_until']:%Y-%m-%d %H:%M} UTC", body
            )
        )
    if inv.get("content_hash"):
        story.append(Paragraph(f"SHA-256: {inv['content_hash']}", body))
    return _build(story, number, compress)


def credit_note_pdf(
    inv: dict[str, Any],
    note: dict[str, Any],
    *,
    seller: SellerExtras | None = None,
    compress: bool = True,
) -> bytes:
    """A credit note (红字冲减) referencing its invoice: lines, VAT per rate, total."""
    extras = seller or SellerExtras()
    font = cjk_font(cjk_font_path(extras.font))
    body, title = _styles(font)
    cur = note["currency"]
    rows: list[list[Any]] = [["#", "项目 Item", "金额 Amount", "税率 Rate"]]
    for n, ln in enumerate(note["lines"], start=1):
        rate = _rate(ln["vat_rate"])
        rows.append(
            [n, Paragraph(_esc(ln["description"]), body), to_major(ln["amount"], cur), rate]
        )
    dates = [
        ["Credit note 贷项通知单", note["number"]],
        ["For statement 原账单", inv["number"] or "-"],
        ["Date 日期", _local(note["created_at"]).strftime("%Y-%m-%d")],
        ["Reason 原因", note["reason"]],
    ]
    story: list[Any] = [
        Paragraph(f"贷项通知单 Credit note {_esc(note['number'])}", title),
        _grid(dates, [130, 370], font),
        Spacer(1, 6),
        _parties(inv, extras, body),
        Spacer(1, 8),
        _styled(Table(rows, colWidths=[25, 305, 100, 70], repeatRows=1, hAlign="LEFT"), font),
        Spacer(1, 8),
        _totals(inv, font, note["subtotal"], note["vat"], note["total"], note["vat_breakdown"]),
    ]
    return _build(story, note["number"], compress)


def _build(story: list[Any], title: str, compress: bool) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, title=title, pageCompression=int(compress), initialFontName=CJK_FONT
    )
    doc.build(story)
    return buf.getvalue()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _local(ts: datetime) -> datetime:
    return ts.astimezone(ZoneInfo(SELLER_TIMEZONE))


def _dates(inv: dict[str, Any], extras: SellerExtras) -> list[list[str]]:
    """Period, issue and due dates, payment terms, status."""
    issued = inv.get("finalized_at")
    issue = _local(issued).strftime("%Y-%m-%d") if issued else "not issued (draft) 未开具"
    due = inv.get("due_date") or (
        _local(issued).date() + timedelta(days=extras.payment_terms_days) if issued else None
    )
    zone = f" ({inv['timezone']})" if inv.get("timezone") else ""
    return [
        ["Period 账期", f"{inv['period']}{zone}"],
        ["Issue date 开具日期", issue],
        ["Due date 付款截止日", str(due) if due else "-"],
        [
            "Payment terms 付款条件",
            f"{extras.payment_terms_days} days net 收到账单后{extras.payment_terms_days}天内付款",
        ],
        ["Status 状态", inv["status"]],
    ]


def _parties(inv: dict[str, Any], extras: SellerExtras, style: ParagraphStyle) -> Table:
    seller = [
        f"名称 Name: {inv['seller_name']}",
        f"纳税人识别号 Taxpayer ID: {inv['seller_tax_id'] or '-'}",
        f"地址 Address: {inv['seller_address'] or '-'}",
        f"开户行 Bank: {extras.bank or '-'}",
        f"账号 Account: {extras.account or '-'}",
    ]
    buyer = [
        f"名称 Name: {inv['buyer_name']}",
        f"纳税人识别号 Taxpayer ID: {inv['buyer_tax_id'] or '-'}",
        f"地址 Address: {inv['buyer_address'] or '-'}",
    ]
    cells = [
        [
            Paragraph("<b>销售方 Seller</b><br/>" + "<br/>".join(map(_esc, seller)), style),
            Paragraph("<b>购买方 Buyer</b><br/>" + "<br/>".join(map(_esc, buyer)), style),
        ]
    ]
    table = Table(cells, colWidths=[250, 250], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), style.fontName)]
        )
    )
    return table


def _unit_price(ln: dict[str, Any], currency: str) -> str:
    """The line's unit price, else amount / quantity (e.g. per device-day), in major units."""
    if ln["unit_price"] is not None:
        return str(ln["unit_price"])
    qty = Decimal(ln["quantity"])
    if not qty:
        return "-"
    minor = Decimal(ln["amount"]).scaleb(minor_unit(currency)) / qty
    return to_major(minor.quantize(Decimal(1).scaleb(-PRICE_EXTRA_DIGITS)), currency)


def _rate(rate: Any) -> str:
    return f"{(Decimal(rate) * 100).normalize():f} %"


def _lines_table(shown: dict[str, Any], style: ParagraphStyle, font: str) -> Table:
    rows: list[list[Any]] = [
        [
            "#",
            "项目名称 Item",
            "数量 Qty",
            "单价 Unit price",
            "金额 Amount",
            "税率 Rate",
            "税额 Tax",
        ]
    ]
    for ln in shown["lines"]:
        rows.append(
            [
                ln["line_no"],
                Paragraph(_esc(ln["description"]), style),
                f"{Decimal(ln['quantity']).normalize():f}",
                _unit_price(ln, shown["currency"]),
                ln["amount"],
                _rate(ln["vat_rate"]),
                ln["vat"],
            ]
        )
    widths = [20, 200, 45, 70, 70, 40, 55]
    return _styled(Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT"), font)


def _styled(table: Table, font: str) -> Table:
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ]
        )
    )
    return table


def _grid(rows: list[list[str]], widths: list[int], font: str) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(
        TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8.5)])
    )
    return table


def _totals(
    inv: dict[str, Any], font: str, subtotal: int, vat: int, total: int, by_rate: dict[str, Any]
) -> Table:
    cur = inv["currency"]
    rows = [["合计 Subtotal (excl. VAT)", format_money(subtotal, cur)]]
    for rate, amount in sorted(by_rate.items()):
        rows.append([f"税额 VAT {_rate(rate)}", format_money(int(amount), cur)])
    rows.append(["价税合计（小写）Total", format_money(total, cur)])
    if cur == "CNY":
        rows.append(["价税合计（大写）Total in words", cny_in_words(total)])
    table = Table(rows, colWidths=[250, 250], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                (
                    "LINEABOVE",
                    (0, -2 if cur == "CNY" else -1),
                    (-1, -2 if cur == "CNY" else -1),
                    0.5,
                    colors.black,
                ),
            ]
        )
    )
    return table
