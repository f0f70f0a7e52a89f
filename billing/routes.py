"""Billing API: plans, subscriptions, runs, invoices (PDF/CSV), credit notes, revenue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from api import problems as p
from api.deps import PoolDep
from api.problems import Problem
from api.security import Principal, Role, require_provider, require_role
from billing import invoice_service, lifecycle, report_service, service
from billing.models import Period
from billing.schemas import (
    Cancel,
    CoverageChange,
    CreditNoteIn,
    CreditNoteOut,
    InvoiceOut,
    PlanChange,
    PlanIn,
    RunRequest,
    RunResult,
    SubscriptionIn,
    VoidIn,
)
from servitize.db import Pool

router = APIRouter(prefix="/billing", tags=["billing"])

Reader = Annotated[Principal, Depends(require_role(Role.FINANCE, Role.VIEWER))]
Finance = Annotated[Principal, Depends(require_role(Role.FINANCE))]
# Years 1970-9999 (Period's own bounds), so a bad month is a 422 here, not deep inside.
PERIOD = r"^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$"
PeriodQ = Annotated[str | None, Query(pattern=PERIOD, description="YYYY-MM")]
# bigserial ids: anything past 2**63 - 1 cannot exist, and would overflow the query.
InvoiceId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SubId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _provider(who: Principal) -> Principal:
    require_provider(who)
    return who


async def _visible_invoice(pool: Pool, who: Principal, invoice_id: int) -> dict[str, Any]:
    return await invoice_service.get_invoice(pool, invoice_id, who.tenant_id)


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
    return await invoice_service.list_invoices(pool, period, who.tenant_id, status)


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut, responses=p.READ)
async def get_invoice(invoice_id: InvoiceId, pool: PoolDep, who: Reader) -> Any:
    """One invoice with its lines; another tenant's invoice is 404."""
    return await _visible_invoice(pool, who, invoice_id)


@router.post("/invoices/{invoice_id}/finalize", response_model=InvoiceOut, responses=p.WRITE)
async def finalize(invoice_id: InvoiceId, pool: PoolDep, who: Finance) -> Any:
    """Issue a draft: number and content hash; it never changes afterwards."""
    _provider(who)
    return await lifecycle.finalize(pool, invoice_id)


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
    return await lifecycle.credit_note(pool, invoice_id, body)


@router.get(
    "/invoices/{invoice_id}/credit-notes", response_model=list[CreditNoteOut], responses=p.READ
)
async def credit_notes(invoice_id: InvoiceId, pool: PoolDep, who: Reader) -> Any:
    """Credit notes issued against an invoice."""
    return await lifecycle.list_credit_notes(pool, invoice_id, who.tenant_id)


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
    """The invoice as PDF."""
    body = await report_service.invoice_pdf(pool, invoice_id, who.tenant_id)
    return Response(body, media_type="application/pdf")


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
    return Response(text, media_type="text/csv; charset=utf-8")


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
