"""Finance outputs against the real database: CSV, PDF, revenue/MRR movement, the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from datetime import date

from billing import invoice_service, lifecycle, report_service, service
from billing.models import Period
from billing.schemas import PlanIn
from servitize.db import Pool
from tests.integration.test_billing_helpers import subscribed, tenant_with_devices

NOV = Period(2026, 11)
SIMPLE = PlanIn.model_validate(
    {"id": "basic", "name": "Basic", "pricing_model": "flat", "tiers": [{"unit_price": "300.00"}]}
)
OCT1, NOV1 = date(2026, 10, 1), date(2026, 11, 1)


async def test_mrr_movement_new_expansion_contraction_churn(pool: Pool) -> None:
    a = await subscribed(pool, "a", ["a1"], OCT1, SIMPLE)
    await tenant_with_devices(pool, "a", ["a2"])
    await service.add_device(pool, a, "a2", NOV1)  # expansion 30000 -> 60000
    b = await subscribed(pool, "b", ["b1"], OCT1, SIMPLE)
    await service.cancel(pool, b, NOV1)  # churn
    await subscribed(pool, "c", ["c1"], NOV1, SIMPLE)  # new in November
    d = await subscribed(pool, "d", ["d1", "d2"], OCT1, SIMPLE)
    await service.remove_device(pool, d, "d2", NOV1)  # contraction 60000 -> 30000
    await invoice_service.run_period(pool, Period(2026, 10))
    await invoice_service.run_period(pool, NOV)
    report = await report_service.revenue_report(pool, NOV, NOV, include_drafts=True)
    [month] = report["months"]
    # November: 600 + 300 + 300 = 1200.00 CNY; October was 300 + 300 + 600
    assert month == {
        "period": "2026-11",
        "mrr": "1200.00",
        "new": "300.00",
        "expansion": "300.00",
        "contraction": "-300.00",
        "churn": "-300.00",
        "tenants": 3,
    }
    assert report["currency"] == "CNY"
    assert {(r["tenant_id"], r["plan_id"], r["recurring"]) for r in report["rows"]} == {
        ("a", "basic", "600.00"),
        ("c", "basic", "300.00"),
        ("d", "basic", "300.00"),
    }
    issued_only = await report_service.revenue_report(pool, NOV, NOV)
    assert issued_only["months"] == []


async def test_period_csv_and_invoice_pdf(pool: Pool) -> None:
    await subscribed(pool, "acme", ["r1", "r2"], OCT1, SIMPLE)
    await invoice_service.run_period(pool, NOV)
    [inv] = await invoice_service.list_invoices(pool, str(NOV), "acme")
    done = await lifecycle.finalize(pool, inv["id"])
    rows = list(csv.DictReader(io.StringIO(await report_service.period_csv(pool, NOV))))
    assert [(r["number"], r["kind"], r["amount"]) for r in rows if r["record"] == "line"] == [
        (done["number"], "recurring", "600.00")
    ]
    name, pdf = await report_service.invoice_pdf(pool, inv["id"])
    assert pdf.startswith(b"%PDF") and b"FontFile2" in pdf  # the font is embedded
    assert name == f"{done['number']}.pdf"
    assert done["number"].encode() in pdf  # the document title
    other = await report_service.period_csv(pool, NOV, tenant_id="nobody")
    assert other.count("\n") == 1  # the header only


async def test_cli_bill_period(db_url: str, pool: Pool) -> None:
    await subscribed(pool, "acme", ["r1"], OCT1, SIMPLE)
    env = {**os.environ, "SERVITIZE_DATABASE_URL": db_url}
    cmd = [sys.executable, "-m", "servitize.cli", "bill", "--period", "2026-11", "--finalize"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert "1 draft invoices" in out.decode() and "billed 1/1 tenants" in err.decode()
    [inv] = await invoice_service.list_invoices(pool, "2026-11", "acme")
    assert inv["status"] == "finalized" and inv["number"] in out.decode()
    rev = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "servitize.cli",
        "billing",
        "revenue",
        "--from",
        "2026-11",
        "--to",
        "2026-11",
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    text = (await rev.communicate())[0].decode()
    # one robot all November at 300.00, new this month
    assert "| 2026-11 | 300.00 | 300.00 | 0.00 | 0.00 | 0.00 | 1 |" in text
    assert "| 2026-11 | basic | acme | 300.00 | 0.00 | CNY |" in text
    bad = await asyncio.create_subprocess_exec(
        *cmd[:-2], "2026-13", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await bad.communicate()
    assert bad.returncode == 2 and b"YYYY-MM" in err
