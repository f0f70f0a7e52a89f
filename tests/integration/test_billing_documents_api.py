"""Issue #14 "the invoice document" through the API: statement and credit-note PDFs with
embedded fonts and the fields a fapiao needs, CSV with a BOM, VAT, totals and credit notes."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from servitize.db import Pool
from tests.integration.test_api_support import client, seed
from tests.integration.test_billing_amounts_api import B, flat, note, only_invoice, subscribe


def fonts_of(pdf: bytes, tmp: Path) -> list[str]:
    """`pdffonts` rows (poppler-utils): every font must say emb = yes."""
    path = tmp / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()[2:]


def text_of(pdf: bytes, tmp: Path) -> str:
    path = tmp / "text.pdf"
    path.write_bytes(pdf)
    cmd = ["pdftotext", "-layout", str(path), "-"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="needs poppler-utils")
async def test_statement_and_credit_note_pdfs_and_csv(pool: Pool, tmp_path: Path) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    async with client(pool) as c:
        plan = flat("care", "300.00")
        assert (await c.put(f"{B}/plans/care", json=plan, headers=fin)).is_success
        await subscribe(c, fin, "acme", "care", ["acme-r1"], "2026-10-01")
        assert (await c.post(f"{B}/runs", json={"period": "2026-11"}, headers=fin)).is_success
        inv = await only_invoice(c, fin, "2026-11")
        url = f"{B}/invoices/{inv['id']}"
        done = (await c.post(f"{url}/finalize", headers=fin)).json()
        cn = (await c.post(f"{url}/credit-notes", json=note("5.00", "0.06"), headers=fin)).json()
        pdf = await c.get(f"{url}/pdf", headers=fin)
        cn_pdf = await c.get(f"{url}/credit-notes/{cn['id']}/pdf", headers=fin)
        lines = await c.get(f"{B}/periods/2026-11/lines.csv", headers=fin)
    number = done["number"]
    assert pdf.headers["content-disposition"] == f'attachment; filename="{number}.pdf"'
    assert cn_pdf.headers["content-disposition"] == f'attachment; filename="{cn["number"]}.pdf"'
    assert (
        lines.headers["content-disposition"] == 'attachment; filename="billing-lines-2026-11.csv"'
    )
    for doc in (pdf.content, cn_pdf.content):
        fonts = fonts_of(doc, tmp_path)
        assert fonts and all(" yes " in row for row in fonts), fonts  # embedded, every one
    text = text_of(pdf.content, tmp_path)
    for field in ("服务账单", "纳税人识别号", "开具日期", "付款截止日", "单价", "税额", "价税合计"):
        assert field in text, field
    assert "发票 " not in text.replace("不是发票", "")  # a statement, not a fapiao
    # 300.00 + 6 % = 318.00: 叁佰壹拾捌元整
    assert "叁佰壹拾捌元整" in text and "318.00 CNY" in text
    cn_text = text_of(cn_pdf.content, tmp_path)
    assert number in cn_text and "5.30 CNY" in cn_text and "伍元叁角整" in cn_text
    assert lines.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    rows = list(csv.DictReader(io.StringIO(lines.content.decode("utf-8-sig"))))
    assert [(r["record"], r["amount"], r["vat"], r["total"]) for r in rows] == [
        ("line", "300.00", "18.00", "318.00"),
        ("invoice", "300.00", "18.00", "318.00"),
        ("credit_note", "-5.00", "-0.30", "-5.30"),
    ]
    assert rows[2]["invoice_number"] == number and rows[0]["currency"] == "CNY"
