"""Field-service set-up API: technicians, the price list, calendars, contracts, policies.
Provider-wide data (technicians, parts, calendars) is written by provider-wide keys only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from api import problems
from api.problems import Problem
from api.security import Principal, require_provider, require_role
from fieldservice import catalog, preventive
from fieldservice.http import PoolDep, call
from fieldservice.schemas import (
    CalendarIn,
    CalendarYearIn,
    ContractIn,
    GenerateIn,
    PartIn,
    PolicyIn,
    ScheduleIn,
    TechnicianIn,
)

router = APIRouter(responses=problems.WRITE)
Reader = Annotated[Principal, Depends(require_role("operator", "finance", "viewer"))]
Operator = Annotated[Principal, Depends(require_role("operator"))]
Finance = Annotated[Principal, Depends(require_role("finance"))]
Admin = Annotated[Principal, Depends(require_role("admin"))]
SlugPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
PartPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


@router.get("/technicians", summary="List technicians")
async def technicians(pool: PoolDep, who: Reader) -> list[dict[str, Any]]:
    """Every technician (provider staff)."""
    return await catalog.listing(pool, "technicians")


@router.put("/technicians/{tech_id}", summary="Create or update a technician")
async def put_technician(
    tech_id: SlugPath, body: TechnicianIn, pool: PoolDep, who: Operator
) -> dict[str, Any]:
    """Skills, sites covered, base coordinates, working hours, the technician's API key."""
    require_provider(who)
    result: dict[str, Any] = await call(
        catalog.save_technician(pool, {"id": tech_id, **body.model_dump()})
    )
    return result


@router.get("/parts", summary="The price list")
async def parts(pool: PoolDep, who: Reader) -> list[dict[str, Any]]:
    """Every part with its price in fen."""
    return await catalog.listing(pool, "parts")


@router.put("/parts/{part_no}", summary="Create or update a price-list entry")
async def put_part(part_no: PartPath, body: PartIn, pool: PoolDep, who: Finance) -> dict[str, Any]:
    """Later uses get the new price; recorded uses keep theirs."""
    require_provider(who)
    result: dict[str, Any] = await call(
        catalog.save_part(pool, {"part_no": part_no, **body.model_dump()})
    )
    return result


@router.get("/calendars", summary="Business calendars")
async def calendars(pool: PoolDep, who: Reader) -> list[dict[str, Any]]:
    """Working hours and weekdays of every calendar."""
    return await catalog.listing(pool, "calendars")


@router.put("/calendars/{cal_id}", summary="Create or update a calendar's working hours")
async def put_calendar(
    cal_id: SlugPath, body: CalendarIn, pool: PoolDep, who: Admin
) -> dict[str, Any]:
    """Hours in the tenant's zone; weekdays ISO 1 (Monday) .. 7."""
    require_provider(who)
    if not set(body.weekdays) <= set(range(1, 8)):
        raise Problem(422, "Unprocessable Content", "weekdays are 1 (Monday) .. 7 (Sunday)")
    result: dict[str, Any] = await call(
        catalog.save_calendar(pool, {"id": cal_id, **body.model_dump()})
    )
    return result


@router.put("/calendars/{cal_id}/years/{year}", summary="Set a year's holidays and workdays")
async def put_calendar_year(
    cal_id: SlugPath,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: CalendarYearIn,
    pool: PoolDep,
    who: Admin,
) -> dict[str, Any]:
    """Replaces the year's public holidays and make-up working days (调休)."""
    require_provider(who)
    result: dict[str, Any] = await call(
        catalog.set_calendar_year(pool, cal_id, year, body.holidays, body.workdays)
    )
    return result


@router.get("/contracts", summary="Service contracts")
async def contracts(
    pool: PoolDep,
    who: Reader,
    tenant_id: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")] = None,
) -> list[dict[str, Any]]:
    """A tenant key sees its own tenant's contracts."""
    return await catalog.listing(pool, "contracts", who.scope(tenant_id))


@router.post("/contracts", status_code=201, summary="Create a service contract")
async def create_contract(body: ContractIn, pool: PoolDep, who: Finance) -> dict[str, Any]:
    """Covered types and sites, targets per priority, prices, included visits, credit tiers."""
    if not who.can_see(body.tenant_id):
        raise Problem(404, "Not Found", f"tenant {body.tenant_id} not found")
    if body.end_date is not None and body.end_date <= body.start_date:
        raise Problem(422, "Unprocessable Content", "a contract must end after it starts")
    fields = body.model_dump(mode="json")
    fields["start_date"], fields["end_date"] = body.start_date, body.end_date
    fields["labour_vat"], fields["parts_vat"] = body.labour_vat, body.parts_vat
    result: dict[str, Any] = await call(catalog.create_contract(pool, fields))
    return result


@router.get("/policies", summary="Dispatch policies")
async def policies(pool: PoolDep, who: Reader) -> list[dict[str, Any]]:
    """Which alerts open a work order by themselves."""
    return await catalog.listing(pool, "policies", who.tenant_id)


@router.post("/policies", status_code=201, summary="Create a dispatch policy")
async def create_policy(body: PolicyIn, pool: PoolDep, who: Operator) -> dict[str, Any]:
    """A tenant key creates policies for its own tenant only."""
    fields = body.model_dump()
    if who.tenant_id is not None:
        if fields["tenant_id"] not in (None, who.tenant_id):
            raise Problem(404, "Not Found", f"tenant {fields['tenant_id']} not found")
        fields["tenant_id"] = who.tenant_id
    result: dict[str, Any] = await call(catalog.create_policy(pool, fields))
    return result


@router.get("/schedules", summary="Preventive maintenance schedules")
async def schedules(pool: PoolDep, who: Reader) -> list[dict[str, Any]]:
    """Every schedule (a tenant key sees its own tenant's)."""
    return await catalog.listing(pool, "schedules", who.tenant_id)


@router.post("/schedules", status_code=201, summary="Create a preventive schedule")
async def create_schedule(body: ScheduleIn, pool: PoolDep, who: Operator) -> dict[str, Any]:
    """E.g. a quarterly inspection of a robot under a contract."""
    require_provider(who)
    result: dict[str, Any] = await call(preventive.create_schedule(pool, body.model_dump()))
    return result


@router.post("/schedules/generate", summary="Create the preventive work orders due soon")
async def generate(body: GenerateIn, pool: PoolDep, who: Operator) -> dict[str, Any]:
    """Work orders for every visit due within ahead_days (running it again creates none)."""
    require_provider(who)
    return {"created": await call(preventive.generate(pool, body.ahead_days))}
