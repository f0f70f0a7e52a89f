"""Console pages: fleet, alerts (live list, one alert, its actions), device, finance."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sse_starlette.sse import EventSourceResponse

from analytics.alerts import service as alerts
from analytics.alerts.models import Conflict, NotFound
from api import sse
from api.deps import pool_of
from billing.errors import NotFound as NoInvoice
from console import pages
from console.models import Session
from console.web import Current, Refused, render, require

router = APIRouter()
T = TypeVar("T")
AlertId = Annotated[int, Path(ge=1)]
FILTERS = ("severity", "state", "site", "type", "q")
READERS = ("operator", "viewer", "finance")  # as the API's alert and registry readers


async def _found(action: Awaitable[T]) -> T:
    """Run a read or an action; another tenant's object is 404, a state clash 409."""
    try:
        return await action
    except (NotFound, NoInvoice) as exc:
        raise Refused(404, "not_found") from exc
    except Conflict as exc:
        raise Refused(409, str(exc)) from exc
    except ValueError as exc:
        raise Refused(400, str(exc)) from exc


@router.get("/")
async def home(session: Current) -> Response:
    return RedirectResponse("/console/alerts", status_code=303)


@router.get("/fleet", response_class=HTMLResponse)
async def fleet(request: Request, session: Current) -> Response:
    require(session, *READERS)
    who = session.user.principal
    data = await pages.fleet(pool_of(request), who)
    return render(request, "fleet.html", **data, zones=await pages.zones(pool_of(request), who))


def _query(request: Request) -> dict[str, str | None]:
    return {k: request.query_params.get(k) for k in FILTERS}


@router.get("/alerts", response_class=HTMLResponse)
async def alert_list(request: Request, session: Current) -> Response:
    """The live alert list: the rows reload on every alert event of the stream."""
    require(session, *READERS)
    q, pool = _query(request), pool_of(request)
    rows = await _found(pages.alert_list(pool, session.user.principal, q))
    zones = await pages.zones(pool, session.user.principal)
    if request.headers.get("hx-request"):
        return render(request, "alert_rows.html", rows=rows, q=q, zones=zones)
    after = await alerts.newest_event_id(pool)
    return render(request, "alerts.html", rows=rows, q=q, zones=zones, after=after)


@router.get("/events")
async def events(request: Request, session: Current) -> EventSourceResponse:
    """The alert change stream of the API, scoped to the user's tenant, for the live list."""
    require(session, *READERS)
    raw = request.query_params.get("after") or ""
    after = int(raw) if raw.isdigit() else await alerts.newest_event_id(pool_of(request))
    pool, tenant = pool_of(request), session.user.tenant_id

    async def fetch(last: int) -> list[dict[str, Any]]:
        return await alerts.events_after(pool, last, tenant)

    feed = sse.feed(request, pool, "servitize_alerts", fetch, after, _action)
    return EventSourceResponse(feed)


def _action(event: dict[str, Any]) -> str:
    return str(event["action"])


async def _detail(request: Request, session: Session, template: str, **data: Any) -> Response:
    """A one-object page (data: its name in the template and the object), times in the
    object's tenant's zone."""
    (obj,) = data.values()
    zones = await pages.zones(pool_of(request), session.user.principal)
    return render(request, template, **data, zone=zones.get(obj["tenant_id"], "UTC"))


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def alert(request: Request, alert_id: AlertId, session: Current) -> Response:
    require(session, *READERS)
    data = await _found(pages.alert(pool_of(request), session.user.principal, alert_id))
    return await _detail(request, session, "alert.html", a=data)


async def _act(session: Session, alert_id: int, action: Callable[[], Awaitable[Any]]) -> Response:
    """An operator's action on an alert, then back to the alert's page."""
    require(session, "operator")
    await _found(action())
    return RedirectResponse(f"/console/alerts/{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/ack")
async def acknowledge(request: Request, alert_id: AlertId, session: Current) -> Response:
    u = session.user
    pool = pool_of(request)
    return await _act(
        session, alert_id, lambda: alerts.acknowledge(pool, alert_id, u.actor, u.tenant_id)
    )


@router.post("/alerts/{alert_id}/resolve")
async def resolve(
    request: Request, alert_id: AlertId, session: Current, note: Annotated[str, Form()] = ""
) -> Response:
    u = session.user
    pool = pool_of(request)
    return await _act(
        session, alert_id, lambda: alerts.resolve(pool, alert_id, u.actor, u.tenant_id, note)
    )


@router.post("/alerts/{alert_id}/comment")
async def comment(
    request: Request, alert_id: AlertId, session: Current, body: Annotated[str, Form()]
) -> Response:
    u = session.user
    pool = pool_of(request)
    return await _act(
        session, alert_id, lambda: alerts.comment(pool, alert_id, u.actor, body, u.tenant_id)
    )


@router.get("/devices/{device_id}", response_class=HTMLResponse)
async def device(request: Request, device_id: str, session: Current) -> Response:
    require(session, *READERS)
    data = await _found(pages.device(pool_of(request), session.user.principal, device_id))
    return await _detail(request, session, "device.html", d=data)


@router.get("/devices/{device_id}/series")
async def device_series(
    request: Request, device_id: str, session: Current, metric: str, range: str = "1d"
) -> Response:
    """A metric's buckets as uPlot columns, with the alert spans to mark."""
    require(session, *READERS)
    who = session.user.principal
    data = await _found(pages.device_series(pool_of(request), who, device_id, metric, range))
    return JSONResponse(data)


@router.get("/finance", response_class=HTMLResponse)
async def finance(request: Request, session: Current) -> Response:
    """Plans, subscriptions, invoices and credit notes, MRR (a tenant sees its own)."""
    require(session, "finance", "viewer")
    who, pool = session.user.principal, pool_of(request)
    data: dict[str, Any] = await pages.finance(pool, who)
    return render(request, "finance.html", **data, zones=await pages.zones(pool, who))


@router.get("/finance/invoices/{invoice_id}.pdf")
async def invoice_pdf(request: Request, invoice_id: int, session: Current) -> Response:
    require(session, "finance", "viewer")
    who = session.user.principal
    name, pdf = await _found(pages.invoice_pdf(pool_of(request), who, invoice_id))
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/finance/periods/{period}.csv")
async def period_csv(request: Request, period: str, session: Current) -> Response:
    require(session, "finance", "viewer")
    text = await _found(pages.period_csv(pool_of(request), session.user.principal, period))
    headers = {"Content-Disposition": f'attachment; filename="invoices-{period}.csv"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
