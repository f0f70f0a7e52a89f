"""`servitize service ...`: work orders, technicians, parts and calendars from the shell.

The CLI acts as the provider's dispatcher (audit actor `cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from fieldservice import catalog, preventive, reports, service, work
from fieldservice.models import Actor, FieldServiceError
from fieldservice.states import HoldReason, Move, State, TransitionError
from servitize import startup

CLI_ACTOR = Actor(name="cli", role="admin", tenant_id=None)


def service_command(g: argparse.ArgumentParser) -> None:
    """`servitize service`: its subcommands, their arguments and handlers."""
    s = g.add_subparsers(dest="service_command", required=True)
    q = _add(s, "list", _list, "list work orders")
    q.add_argument("--tenant")
    q.add_argument("--state", choices=[x.value for x in State])
    q.add_argument("--limit", type=int, default=50)
    _add(s, "show", _show, "one work order as JSON").add_argument("id", type=int)
    q = _add(s, "create", _create, "create a work order by hand")
    q.add_argument("--tenant", required=True)
    q.add_argument("--title", required=True)
    q.add_argument("--priority", default="p3")
    q.add_argument("--device")
    q.add_argument("--site")
    q = _add(s, "move", _move, "change a work order's state")
    q.add_argument("id", type=int)
    q.add_argument("to", choices=[x.value for x in State])
    q.add_argument("--reason", default="")
    q.add_argument("--hold", choices=[h.value for h in HoldReason])
    q.add_argument("--technician")
    q = _add(s, "suggest", _suggest, "technicians suggested for a work order")
    q.add_argument("id", type=int)
    q = _add(s, "report", _report, "a work order's service report as PDF")
    q.add_argument("id", type=int)
    q.add_argument("--out", type=Path, required=True)
    q = _add(s, "month", _month, "a tenant's monthly service report (JSON; PDF with --out)")
    q.add_argument("--tenant", required=True)
    q.add_argument("--period", required=True, help="YYYY-MM")
    q.add_argument("--out", type=Path)
    q = _add(s, "plan", _plan, "create the preventive work orders due soon")
    q.add_argument("--ahead-days", type=int, default=30)
    q = _add(s, "technician", _technician, "create or update a technician")
    q.add_argument("id")
    q.add_argument("--name", required=True)
    q.add_argument("--skill", action="append", default=[], dest="skills")
    q.add_argument("--site", action="append", default=[], dest="sites")
    q.add_argument("--lat", type=float)
    q.add_argument("--lon", type=float)
    q.add_argument("--key", help="the technician's API key id")
    q = _add(s, "part", _part, "create or update a price-list entry (price in fen)")
    q.add_argument("part_no")
    q.add_argument("--price", type=int, required=True)
    q.add_argument("--description", default="")
    q = _add(s, "calendar-year", _year, "set a year's holidays and make-up workdays")
    q.add_argument("calendar")
    q.add_argument("year", type=int)
    q.add_argument("--holiday", action="append", default=[], type=date.fromisoformat)
    q.add_argument("--workday", action="append", default=[], type=date.fromisoformat)


def _add(s: Any, name: str, handler: Any, text: str) -> Any:
    q = s.add_parser(name, help=text)
    q.set_defaults(handler=_guarded(handler))
    return q


def _guarded(handler: Any) -> Any:
    async def run(args: argparse.Namespace) -> int:
        pool = await startup.service_pool("service", max_size=2)
        try:
            print(json.dumps(await handler(pool, args), default=str, indent=2, ensure_ascii=False))
            return 0
        except (FieldServiceError, TransitionError, ValueError) as exc:
            print(f"servitize service: {exc}", file=sys.stderr)
            return 1
        finally:
            await pool.close()

    return run


async def _list(pool: Any, a: argparse.Namespace) -> Any:
    rows = await service.list_orders(
        pool, CLI_ACTOR, tenant_id=a.tenant, state=a.state, limit=a.limit
    )
    return [
        {k: r[k] for k in ("id", "number", "tenant_id", "state", "priority", "title")} for r in rows
    ]


async def _show(pool: Any, a: argparse.Namespace) -> Any:
    return await service.detail(pool, a.id, CLI_ACTOR)


async def _create(pool: Any, a: argparse.Namespace) -> Any:
    new = service.NewOrder(
        tenant_id=a.tenant,
        title=a.title,
        priority=a.priority,
        source="manual",
        device_id=a.device,
        site_id=a.site,
    )
    out = await service.create(pool, new, CLI_ACTOR)
    return {"id": out["id"], "number": out["number"], "response_due": out["response_due"]}


async def _move(pool: Any, a: argparse.Namespace) -> Any:
    move = Move(
        to=State(a.to),
        reason=a.reason,
        hold=HoldReason(a.hold) if a.hold else None,
        technician_id=a.technician,
    )
    out = await service.transition(pool, a.id, move, CLI_ACTOR)
    return {"id": out["id"], "number": out["number"], "state": out["state"]}


async def _suggest(pool: Any, a: argparse.Namespace) -> Any:
    return [s.__dict__ for s in await work.suggest(pool, a.id, CLI_ACTOR)]


async def _report(pool: Any, a: argparse.Namespace) -> Any:
    wo = await service.detail(pool, a.id, CLI_ACTOR)
    a.out.write_bytes(reports.work_order_pdf(wo))
    return {"written": str(a.out)}


async def _month(pool: Any, a: argparse.Namespace) -> Any:
    report = await reports.monthly(pool, a.tenant, a.period, CLI_ACTOR)
    if a.out is None:
        return report
    a.out.write_bytes(reports.monthly_pdf(report))
    return {"written": str(a.out)}


async def _plan(pool: Any, a: argparse.Namespace) -> Any:
    return {"created": await preventive.generate(pool, a.ahead_days)}


async def _technician(pool: Any, a: argparse.Namespace) -> Any:
    return await catalog.save_technician(
        pool,
        {
            "id": a.id,
            "name": a.name,
            "skills": a.skills,
            "sites": a.sites,
            "latitude": a.lat,
            "longitude": a.lon,
            "api_key_id": a.key,
        },
    )


async def _part(pool: Any, a: argparse.Namespace) -> Any:
    return await catalog.save_part(
        pool, {"part_no": a.part_no, "unit_price": a.price, "description": a.description}
    )


async def _year(pool: Any, a: argparse.Namespace) -> Any:
    return await catalog.set_calendar_year(pool, a.calendar, a.year, a.holiday, a.workday)


__all__ = ["service_command"]
