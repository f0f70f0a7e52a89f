"""Field-service reports: a work order's service report and a tenant's monthly report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from api import problems
from api.problems import Problem
from fieldservice import reports, service
from fieldservice.http import ActorDep, PoolDep, WoId, call
from fieldservice.models import Actor

router = APIRouter(responses=problems.WRITE)
PDF: problems.Responses = {200: {"content": {"application/pdf": {}}}}
Period = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
TenantPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


@router.get(
    "/work-orders/{wo_id}/report.pdf",
    summary="Service report of a work order (PDF)",
    response_class=Response,
    responses=PDF,
)
async def work_order_report(wo_id: WoId, pool: PoolDep, actor: ActorDep) -> Response:
    """What was done, when, by whom, the time, parts, SLA clocks and the sign-off."""
    wo = await call(service.detail(pool, wo_id, actor))
    return Response(reports.work_order_pdf(wo), media_type="application/pdf")


@router.get("/reports/{tenant_id}/{period}", summary="A tenant's monthly service report")
async def monthly_report(
    tenant_id: TenantPath, period: Period, pool: PoolDep, actor: ActorDep
) -> dict[str, Any]:
    """Alerts by severity, work orders, mean time to respond and repair, SLA compliance."""
    _no_technician(actor)
    return await call(reports.monthly(pool, tenant_id, period, actor))


@router.get(
    "/reports/{tenant_id}/{period}/pdf",
    summary="The monthly service report (PDF)",
    response_class=Response,
    responses=PDF,
)
async def monthly_report_pdf(
    tenant_id: TenantPath, period: Period, pool: PoolDep, actor: ActorDep
) -> Response:
    """The same report as a PDF for the customer."""
    _no_technician(actor)
    report = await call(reports.monthly(pool, tenant_id, period, actor))
    return Response(reports.monthly_pdf(report), media_type="application/pdf")


def _no_technician(actor: Actor) -> None:
    if actor.is_technician:
        raise Problem(403, "Forbidden", "a technician sees its own work orders only")
