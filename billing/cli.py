"""`servitize bill --period YYYY-MM` and `servitize billing ...` for plans, invoices, reports."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from billing import event_delivery, invoice_service, lifecycle, payments, report_service, service
from billing.errors import BillingError, NotFound
from billing.invoice_schemas import PaymentIn
from billing.models import Money, Period
from billing.payments import seller_today
from billing.schemas import PlanIn, SubscriptionIn
from servitize import db, startup


def bill_command(p: argparse.ArgumentParser) -> None:
    """`servitize bill`: its arguments and handler."""
    p.add_argument("--period", required=True, type=_period, help="YYYY-MM, e.g. 2026-11")
    p.add_argument("--tenant", action="append", dest="tenants", help="only this tenant")
    p.add_argument("--finalize", action="store_true", help="issue the drafts afterwards")
    p.add_argument("--force", metavar="REASON", help="finalize a period that has not ended")
    p.set_defaults(handler=_bill)


def billing_command(g: argparse.ArgumentParser) -> None:
    """`servitize billing`: its arguments and handler."""
    b = g.add_subparsers(dest="billing_command", required=True)
    _add(b, "plan", _plan, "create or replace a plan from a JSON file").add_argument(
        "file", type=Path
    )
    q = _add(b, "subscribe", _subscribe, "subscribe a tenant's devices to a plan")
    q.add_argument("--tenant", required=True)
    q.add_argument("--plan", required=True)
    q.add_argument("--start", required=True, type=date.fromisoformat)
    q.add_argument("--trial-days", type=int, default=0)
    q.add_argument("--device", action="append", default=[], dest="devices")
    q = _add(b, "finalize", _finalize, "issue draft invoices (one id, or a whole period)")
    q.add_argument("--invoice", type=int)
    q.add_argument("--period", type=_period)
    q.add_argument("--force", metavar="REASON", help="finalize a period that has not ended")
    q = _add(b, "void", _void, "void a finalized invoice")
    q.add_argument("invoice", type=int)
    q.add_argument("--reason", required=True)
    _add(b, "paid", _paid, "record payment of an invoice").add_argument("invoice", type=int)
    q = _add(b, "pay", _pay, "record a (partial) payment of an invoice")
    q.add_argument("invoice", type=int)
    q.add_argument("--amount", required=True, help="major units, e.g. 100.00")
    q.add_argument("--on", type=date.fromisoformat, default=None, help="YYYY-MM-DD (today)")
    q.add_argument("--reference", default="")
    _add(b, "overdue", _overdue, "record overdue events for invoices past their due date")
    _add(b, "webhooks", _webhooks, "deliver invoice events to tenants' webhooks until Ctrl-C")
    q = _add(b, "csv", _csv, "a period's invoice lines as CSV")
    q.add_argument("--period", required=True, type=_period)
    q.add_argument("--out", type=Path)
    q = _add(b, "pdf", _pdf, "an invoice as PDF")
    q.add_argument("invoice", type=int)
    q.add_argument("--out", type=Path, required=True)
    q = _add(b, "revenue", _revenue, "recurring revenue and MRR movement per month")
    q.add_argument("--from", dest="first", required=True, type=_period)
    q.add_argument("--to", dest="last", required=True, type=_period)
    q.add_argument("--drafts", action="store_true", help="include draft invoices")
    q = _add(b, "seller", _seller, "set the seller's name and tax id printed on invoices")
    q.add_argument("--name", required=True)
    q.add_argument("--tax-id", default="")
    q.add_argument("--address", default="")


def _period(text: str) -> Period:
    """argparse type: a YYYY-MM period with the parser's own message on error."""
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add(b: Any, name: str, handler: Any, text: str) -> Any:
    q = b.add_parser(name, help=text)
    q.set_defaults(handler=_guarded(handler))
    return q


def _guarded(handler: Any) -> Any:
    async def run(args: argparse.Namespace) -> int:
        pool = await startup.service_pool("billing", max_size=3)
        try:
            return int(await handler(pool, args))
        except (BillingError, NotFound, ValueError) as exc:
            print(f"servitize billing: {exc}", file=sys.stderr)
            return 1
        finally:
            await pool.close()

    return run


def _progress(done: int, total: int) -> None:
    print(f"\rbilled {done}/{total} tenants", end="" if done < total else "\n", file=sys.stderr)


async def _bill(args: argparse.Namespace) -> int:
    return int(await _guarded(_bill_run)(args))


async def _bill_run(pool: db.Pool, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    result = await invoice_service.run_period(pool, args.period, args.tenants, _progress)
    print(
        f"{result.period}: {result.drafts} draft invoices ({result.lines} lines), "
        f"{result.skipped_issued} already issued and left alone, {result.removed_empty} empty "
        f"drafts removed in {time.perf_counter() - started:.1f} s"
    )
    if result.failed:
        for f in result.failed:
            print(f"not billed: {f.tenant_id}: {f.error}", file=sys.stderr)
    if args.finalize:
        await _finalize_period(pool, args.period, args.force)
    return 0


async def _finalize_period(pool: db.Pool, period: Period, force: str | None) -> None:
    issued = await lifecycle.finalize_period(pool, period, _issued_progress, force)
    span = f": {issued[0][1]} .. {issued[-1][1]}" if issued else ""
    print(f"{period}: finalized {len(issued)} invoices{span}")


def _issued_progress(done: int, total: int) -> None:
    print(f"\rfinalized {done}/{total} invoices", end="" if done < total else "\n", file=sys.stderr)


async def _plan(pool: db.Pool, args: argparse.Namespace) -> int:
    plan = await service.save_plan(pool, PlanIn.model_validate_json(args.file.read_text()))
    print(f"plan {plan.id} saved")
    return 0


async def _subscribe(pool: db.Pool, args: argparse.Namespace) -> int:
    sub = SubscriptionIn(
        tenant_id=args.tenant,
        plan_id=args.plan,
        start_date=args.start,
        trial_days=args.trial_days,
        device_ids=args.devices,
    )
    print(f"subscription {await service.subscribe(pool, sub)} created")
    return 0


async def _finalize(pool: db.Pool, args: argparse.Namespace) -> int:
    if args.invoice is not None:
        done = await lifecycle.finalize(pool, args.invoice, args.force)
        print(f"{done['number']} {done['tenant_id']} {Money(done['total'], done['currency'])}")
    elif args.period is not None:
        await _finalize_period(pool, args.period, args.force)
    else:
        raise BillingError("give --invoice ID or --period YYYY-MM")
    return 0


async def _void(pool: db.Pool, args: argparse.Namespace) -> int:
    await lifecycle.void(pool, args.invoice, args.reason)
    return 0


async def _paid(pool: db.Pool, args: argparse.Namespace) -> int:
    await lifecycle.mark_paid(pool, args.invoice)
    return 0


async def _pay(pool: db.Pool, args: argparse.Namespace) -> int:
    body = PaymentIn(
        amount=args.amount, paid_on=args.on or seller_today(), reference=args.reference
    )
    row = await payments.record_payment(pool, args.invoice, body)
    print(f"payment {row['id']}: {Money(row['amount'], row['currency'])}")
    return 0


async def _overdue(pool: db.Pool, args: argparse.Namespace) -> int:
    for r in await payments.flag_overdue(pool):
        left = Money(r["outstanding"], r["currency"])
        print(f"{r['number']} {r['tenant_id']} due {r['due_date']}: {left}")
    return 0


async def _webhooks(pool: db.Pool, args: argparse.Namespace) -> int:
    await event_delivery.run(pool, asyncio.Event())
    return 0


async def _csv(pool: db.Pool, args: argparse.Namespace) -> int:
    text = await report_service.period_csv(pool, args.period)
    if args.out:
        args.out.write_text(text, encoding="utf-8-sig")  # the BOM: Excel reads UTF-8
    else:
        sys.stdout.write("\ufeff" + text)
    return 0


async def _pdf(pool: db.Pool, args: argparse.Namespace) -> int:
    _, body = await report_service.invoice_pdf(pool, args.invoice)
    args.out.write_bytes(body)
    print(f"wrote {args.out}")
    return 0


async def _revenue(pool: db.Pool, args: argparse.Namespace) -> int:
    report = await report_service.revenue_report(pool, args.first, args.last, None, args.drafts)
    print(f"amounts in {report['currency']}")
    print("| month | MRR | new | expansion | contraction | churn | tenants |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for m in report["months"]:
        cells = [m[k] for k in ("mrr", "new", "expansion", "contraction", "churn")]
        print(f"| {m['period']} | {' | '.join(cells)} | {m['tenants']} |")
    print("\n| month | plan | tenant | recurring | SLA credits | currency |")
    print("|---|---|---|---:|---:|---|")
    for r in report["rows"]:
        print(
            f"| {r['period']} | {r['plan_id']} | {r['tenant_id']} | "
            f"{r['recurring']} | {r['sla_credits']} | {r['currency']} |"
        )
    return 0


async def _seller(pool: db.Pool, args: argparse.Namespace) -> int:
    await service.set_seller(pool, args.name, args.tax_id, args.address)
    return 0
