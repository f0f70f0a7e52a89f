"""Billing API: plans, subscriptions, runs, invoices (PDF/CSV), credit notes, revenue."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from api import problems as p
from api.deps import PoolDep
from api.problems import Problem
from api.security import Principal, Role, require_provider, require_role
from billing import (
    invoice_service,
    lifecycle,
    payments,
    presenters,
    report_service,
    service,
    usage_records,
    wallet,
)
from billing.invoice_schemas import (
    CreditNoteIn,
    CreditNoteOut,
    FinalizeIn,
    InvoiceOut,
    PaymentIn,
    PaymentOut,
    TopUpIn,
    UsageBatchIn,
    UsageBatchOut,
    VoidIn,
)
from billing.models import Period
from billing.money import to_major
from billing.schemas import (
    PERIOD_PATTERN,
    Cancel,
    CouponIn,
    CoverageChange,
    PlanChange,
    PlanIn,
    RedemptionIn,
    RunRequest,
    RunResult,
    SubscriptionIn,
)
from servitize.db import Pool

router = APIRouter(prefix="/billing", tags=["billing"])

Reader = Annotated[Principal, Depends(require_role(Role.FINANCE, Role.VIEWER))]
Finance = Annotated[Principal, Depends(require_role(Role.FINANCE))]
# Years 1970-9999 (Period's own bounds), ASCII digits, so a bad month is a 422 here.
PERIOD = PERIOD_PATTERN
PeriodQ = Annotated[str | None, Query(pattern=PERIOD, description="YYYY-MM")]
# bigserial ids: anything past 2**63 - 1 cannot exist, and would overflow the query.
InvoiceId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SubId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _provider(who: Principal) -> Principal:
    require_provider(who)
    return who


async def _visible_invoice(pool: Pool, who: Principal, invoice_id: int) -> dict[str, Any]:
    return await invoice_service.get_invoice(pool, invoice_id, who.tenant_id)


def _attachment(name: str) -> dict[str, str]:
    """Content-Disposition naming the downloaded file."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


# --- plans and subscriptions -------------------------------------------------------------


@router.get("/plans", response_model=list[PlanIn], responses=p.READ)
async def list_plans(pool: PoolDep, who: Reader) -> Any:
    """Every plan."""
    return await service.list_plans(pool)


@router.put("/plans/{plan_id}", response_model=PlanIn, responses=p.WRITE)
async def put_plan(plan_id: str, body: PlanIn, pool: PoolDep, who: Finance) -> Any:
    """Create or replace a plan (provider only)."""
    _provider(who)
    if body.id != plan_id:
        raise Problem(422, "Unprocessable Content", "the body's id must match the path")
    return await service.save_plan(pool, body)


@router.get("/subscriptions", responses=p.READ)
async def list_subscriptions(pool: PoolDep, who: Reader) -> Any:
    """Subscriptions with covered devices (a tenant key sees its own)."""
    return await service.list_subscriptions(pool, who.tenant_id)


@router.post("/subscriptions", status_code=201, responses=p.WRITE)
async def create_subscription(body: SubscriptionIn, pool: PoolDep, who: Finance) -> Any:
    """Subscribe a tenant's devices to a plan (provider only)."""
    _provider(who)
    return {"id": await service.subscribe(pool, body)}


@router.post("/subscriptions/{sub_id}/devices", status_code=204, responses=p.WRITE)
async def join_device(sub_id: SubId, body: CoverageChange, pool: PoolDep, who: Finance) -> None:
    """Cover one more device from a date."""
    _provider(who)
    await service.add_device(pool, sub_id, body.device_id, body.on)


@router.post("/subscriptions/{sub_id}/leave", status_code=204, responses=p.WRITE)
async def leave_device(sub_id: SubId, body: CoverageChange, pool: PoolDep, who: Finance) -> None:
    """Stop covering a device from a date."""
    _provider(who)
    await service.remove_device(pool, sub_id, body.device_id, body.on)


@router.post("/subscriptions/{sub_id}/plan", status_code=201, responses=p.WRITE)
async def change_plan(sub_id: SubId, body: PlanChange, pool: PoolDep, who: Finance) -> Any:
    """Upgrade or downgrade from a date; returns the new subscription's id."""
    _provider(who)
    return {"id": await service.change_plan(pool, sub_id, body.plan_id, body.on)}


@router.post("/subscriptions/{sub_id}/cancel", status_code=204, responses=p.WRITE)
async def cancel(sub_id: SubId, body: Cancel, pool: PoolDep, who: Finance) -> None:
    """End a subscription on a date (exclusive)."""
    _provider(who)
    await service.cancel(pool, sub_id, body.on)


@router.put("/coupons/{code}", response_model=CouponIn, responses=p.WRITE)
async def put_coupon(code: str, body: CouponIn, pool: PoolDep, who: Finance) -> Any:
    """Create or replace a coupon (provider only)."""
    _provider(who)
    if body.code != code:
        raise Problem(422, "Unprocessable Content", "the body's code must match the path")
    return await service.save_coupon(pool, body)


@router.get("/coupons", responses=p.READ)
async def list_coupons(pool: PoolDep, who: Finance) -> Any:
    """Every coupon."""
    return await service.list_coupons(pool)


@router.post("/coupons/{code}/redemptions", status_code=204, responses=p.WRITE)
async def redeem(code: str, body: RedemptionIn, pool: PoolDep, who: Finance) -> None:
    """A tenant redeems a coupon from a month on (once per tenant)."""
    _provider(who)
    await service.redeem(pool, code, body)


# --- runs and invoices -------------------------------------------------------------------


@router.post("/runs", response_model=RunResult, responses=p.WRITE)
async def run(body: RunRequest, pool: PoolDep, who: Finance) -> Any:
    """Create or regenerate a period's drafts (idempotent; issued invoices stay)."""
    _provider(who)
    return await invoice_service.run_period(pool, _period(body.period), body.tenant_ids)


def _period(text: str) -> Period:
    """A YYYY-MM period, or 422 saying what is expected."""
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise Problem(422, "Unprocessable Content", str(exc)) from exc


@router.get("/invoices", response_model=list[InvoiceOut], responses=p.READ)
async def list_invoices(
    pool: PoolDep,
    who: Reader,
    period: PeriodQ = None,
    status: Annotated[str | None, Query(pattern="^(draft|finalized|paid|void)$")] = None,
) -> Any:
    """Invoice headers (a tenant key sees its own)."""
    found = await invoice_service.list_invoices(pool, period, who.tenant_id, status)
    return [presenters.invoice(i) for i in found]


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut, responses=p.READ)
async def get_invoice(invoice_id: InvoiceId, pool: PoolDep, who: Reader) -> Any:
    """One invoice with its lines; another tenant's invoice is 404."""
    return presenters.invoice(await _visible_invoice(pool, who, invoice_id))


@router.post("/invoices/{invoice_id}/finalize", response_model=InvoiceOut, responses=p.WRITE)
async def finalize(
    invoice_id: InvoiceId, pool: PoolDep, who: Finance, body: FinalizeIn | None = None
) -> Any:
    """Issue a draft: number and content hash; it never changes afterwards. A period that
    has not ended is refused (409) unless the body says `force` with a reason."""
    _provider(who)
    force = body.reason if body is not None and body.force else None
    if body is not None and body.force and not body.reason.strip():
        raise Problem(422, "Unprocessable Content", "reason: forcing needs a reason")
    return presenters.invoice(await lifecycle.finalize(pool, invoice_id, force))


@router.post("/invoices/{invoice_id}/void", status_code=204, responses=p.WRITE)
async def void(invoice_id: InvoiceId, body: VoidIn, pool: PoolDep, who: Finance) -> None:
    """Void a finalized invoice."""
    _provider(who)
    await lifecycle.void(pool, invoice_id, body.reason)


@router.post("/invoices/{invoice_id}/paid", status_code=204, responses=p.WRITE)
async def paid(invoice_id: InvoiceId, pool: PoolDep, who: Finance) -> None:
    """Record payment."""
    _provider(who)
    await lifecycle.mark_paid(pool, invoice_id)


@router.post(
    "/invoices/{invoice_id}/payments",
    status_code=201,
    response_model=PaymentOut,
    responses=p.WRITE,
)
async def pay(invoice_id: InvoiceId, body: PaymentIn, pool: PoolDep, who: Finance) -> Any:
    """Record a (partial) payment; the one that settles what is due marks the invoice paid."""
    _provider(who)
    return presenters.payment(await payments.record_payment(pool, invoice_id, body))


@router.get("/invoices/{invoice_id}/payments", response_model=list[PaymentOut], responses=p.READ)
async def list_payments(invoice_id: InvoiceId, pool: PoolDep, who: Reader) -> Any:
    """Payments recorded against an invoice."""
    found = await payments.list_payments(pool, invoice_id, who.tenant_id)
    return [presenters.payment(r) for r in found]


@router.post("/overdue", responses=p.WRITE)
async def overdue(pool: PoolDep, who: Finance) -> Any:
    """Record an `overdue` event for each invoice newly past its due date."""
    _provider(who)
    rows = await payments.flag_overdue(pool)
    return [{"id": r["id"], "number": r["number"], "due_date": r["due_date"]} for r in rows]


@router.post("/usage", response_model=UsageBatchOut, responses=p.WRITE)
async def usage(body: UsageBatchIn, pool: PoolDep, who: Finance) -> Any:
    """Report usage from outside the device stream; a retried event id is stored once."""
    _provider(who)
    return await usage_records.report(pool, body)


@router.post("/wallets/{tenant_id}/top-ups", status_code=201, responses=p.WRITE)
async def top_up(tenant_id: str, body: TopUpIn, pool: PoolDep, who: Finance) -> Any:
    """Prepaid credit for a tenant; issued invoices are paid from it."""
    _provider(who)
    row = await wallet.top_up(pool, tenant_id, body)
    return {**row, "amount": to_major(row["amount"], row["currency"].strip())}


@router.get("/wallets/{tenant_id}", responses=p.READ)
async def wallet_balance(tenant_id: str, pool: PoolDep, who: Reader) -> Any:
    """What a tenant can still spend from its prepaid credit."""
    if who.tenant_id is not None and who.tenant_id != tenant_id:
        raise Problem(404, "Not Found", f"tenant {tenant_id} not found")
    return await wallet.balance(pool, tenant_id)


@router.get("/events", responses=p.READ)
async def events(
    pool: PoolDep,
    who: Reader,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Invoice events (issued, payment, paid, overdue, voided, credited) after an id."""
    return await payments.events_after(pool, after, who.tenant_id, limit)


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    status_code=201,
    response_model=CreditNoteOut,
    responses=p.WRITE,
)
async def credit_note(
    invoice_id: InvoiceId, body: CreditNoteIn, pool: PoolDep, who: Finance
) -> Any:
    """Correct an issued invoice with a credit note that references it."""
    _provider(who)
    return presenters.credit_note(await lifecycle.credit_note(pool, invoice_id, body))


@router.get(
    "/invoices/{invoice_id}/credit-notes", response_model=list[CreditNoteOut], responses=p.READ
)
async def credit_notes(invoice_id: InvoiceId, pool: PoolDep, who: Reader) -> Any:
    """Credit notes issued against an invoice."""
    notes = await lifecycle.list_credit_notes(pool, invoice_id, who.tenant_id)
    return [presenters.credit_note(n) for n in notes]


@router.get("/invoices/{invoice_id}/verify", responses=p.READ)
async def verify(invoice_id: InvoiceId, pool: PoolDep, who: Reader) -> Any:
    """Whether an issued invoice still matches its stored content hash."""
    await _visible_invoice(pool, who, invoice_id)
    return {"id": invoice_id, "intact": await lifecycle.verify(pool, invoice_id)}


def _file(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entry for a file download, so clients and schema checks expect no JSON."""
    return {200: {"description": what, "content": {media_type: {"schema": {"type": "string"}}}}}


@router.get(
    "/invoices/{invoice_id}/pdf",
    responses=p.READ | _file("application/pdf", "PDF"),
    response_class=Response,
)
async def invoice_pdf(invoice_id: InvoiceId, pool: PoolDep, who: Reader) -> Response:
    """The invoice as a PDF service statement."""
    return await _pdf(report_service.invoice_pdf(pool, invoice_id, who.tenant_id))


@router.get(
    "/invoices/{invoice_id}/credit-notes/{note_id}/pdf",
    responses=p.READ | _file("application/pdf", "PDF"),
    response_class=Response,
)
async def credit_note_pdf(
    invoice_id: InvoiceId, note_id: InvoiceId, pool: PoolDep, who: Reader
) -> Response:
    """A credit note as PDF."""
    return await _pdf(report_service.credit_note_pdf(pool, invoice_id, note_id, who.tenant_id))


async def _pdf(document: Awaitable[tuple[str, bytes]]) -> Response:
    """A PDF download named by the document."""
    name, body = await document
    return Response(body, media_type="application/pdf", headers=_attachment(name))


@router.get(
    "/periods/{period}/lines.csv",
    responses=p.READ | _file("text/csv", "CSV"),
    response_class=Response,
)
async def period_csv(
    period: Annotated[str, Path(pattern=PERIOD)], pool: PoolDep, who: Reader
) -> Response:
    """Every line of the period's live invoices as CSV (a tenant key: its own)."""
    text = await report_service.period_csv(pool, _period(period), who.tenant_id)
    headers = _attachment(f"billing-lines-{period}.csv")
    return Response(text.encode("utf-8-sig"), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/revenue", responses=p.READ)
async def revenue(
    pool: PoolDep,
    who: Reader,
    first: Annotated[str, Query(alias="from", pattern=PERIOD)],
    last: Annotated[str, Query(alias="to", pattern=PERIOD)],
    drafts: bool = False,
) -> Any:
    """Recurring revenue per month, plan and tenant, with MRR movement."""
    return await report_service.revenue_report(
        pool, _period(first), _period(last), who.tenant_id, drafts
    )
