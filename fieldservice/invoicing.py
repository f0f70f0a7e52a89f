"""Work orders on the monthly invoice: what billing's invoice run asks field service for.

A work order is billed in the month (tenant's zone) it was completed, under the contract it was
created under. Labour and travel by the minute at the contract's hourly rates, parts at the price
they had when used, visits beyond the year's included ones, and SLA credits by the contract's
tiers. Covered items appear as included lines of 0.00. Values are plain (fen, Decimal).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fieldservice import places
from fieldservice.charges import Charge, OrderWork, PartUse, charges
from fieldservice.models import pricing_of
from servitize.db import Connection

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

_BILLED = """
SELECT w.id, w.number, w.tenant_id, w.contract_id, w.completed_at,
       coalesce(w.response_breach, 0) AS response_breach,
       coalesce(w.resolution_breach, 0) AS resolution_breach,
       EXISTS (SELECT 1 FROM fs_events e WHERE e.work_order_id = w.id
               AND e.to_state = 'en_route') AS visit
FROM fs_work_orders w
WHERE w.contract_id IS NOT NULL AND w.state IN ('completed', 'closed')
  AND w.tenant_id = ANY($1::text[]) AND w.completed_at >= $2 AND w.completed_at < $3
ORDER BY w.tenant_id, w.completed_at, w.id
"""

# Visits of the same contract earlier in the year ($2 = the year's start in the tenant's zone).
_VISITS_BEFORE = """
SELECT w.id, count(*) OVER (PARTITION BY w.contract_id ORDER BY w.completed_at, w.id) - 1 AS n
FROM fs_work_orders w
WHERE w.contract_id = ANY($1::bigint[]) AND w.state IN ('completed', 'closed')
  AND w.completed_at >= $2 AND w.completed_at < $3
  AND EXISTS (SELECT 1 FROM fs_events e WHERE e.work_order_id = w.id AND e.to_state = 'en_route')
"""

_MINUTES = """
SELECT work_order_id, kind,
       round(sum(extract(epoch FROM ended_at - started_at)) / 60)::int AS minutes
FROM fs_time_entries WHERE work_order_id = ANY($1::bigint[]) GROUP BY work_order_id, kind
"""


def period_bounds(period: str, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a YYYY-MM month in a zone."""
    year, month = _period(period)
    tz = ZoneInfo(timezone)
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=tz), datetime(*nxt, 1, tzinfo=tz)


def _period(text: str) -> tuple[int, int]:
    m = _PERIOD.match(text)
    if not m:
        raise ValueError(f"invalid period {text!r}: expected YYYY-MM")
    return int(m[1]), int(m[2])


async def invoice_lines(
    conn: Connection, period: str, tenant_ids: list[str] | None = None
) -> dict[str, list[Charge]]:
    """Each tenant's work-order lines for a month, in completion order (read-only)."""
    _period(period)
    by_zone: dict[str, list[str]] = defaultdict(list)
    for tenant, zone in (await places.zones(conn, tenant_ids)).items():
        by_zone[zone].append(tenant)
    out: dict[str, list[Charge]] = {}
    for zone, tenants in sorted(by_zone.items()):
        out |= await _in_zone(conn, period, zone, sorted(tenants))
    return dict(sorted(out.items()))


async def _in_zone(
    conn: Connection, period: str, zone: str, tenants: list[str]
) -> dict[str, list[Charge]]:
    start, end = period_bounds(period, zone)
    rows = await conn.fetch(_BILLED, tenants, start, end)
    if not rows:
        return {}
    ids = [r["id"] for r in rows]
    contracts = {
        r["id"]: r
        for r in await conn.fetch(
            "SELECT * FROM fs_contracts WHERE id = ANY($1::bigint[])",
            list({r["contract_id"] for r in rows}),
        )
    }
    year_start = start.replace(month=1)
    before = {
        r["id"]: r["n"] for r in await conn.fetch(_VISITS_BEFORE, list(contracts), year_start, end)
    }
    minutes = {
        (r["work_order_id"], r["kind"]): r["minutes"] for r in await conn.fetch(_MINUTES, ids)
    }
    parts = await _parts(conn, ids)
    out: dict[str, list[Charge]] = defaultdict(list)
    for r in rows:
        work = _work(r, minutes, parts.get(r["id"], ()), before.get(r["id"], 0))
        out[r["tenant_id"]] += charges(work, pricing_of(contracts[r["contract_id"]]))
    return dict(out)


async def _parts(conn: Connection, ids: list[int]) -> dict[int, tuple[PartUse, ...]]:
    found: dict[int, list[PartUse]] = defaultdict(list)
    for p in await conn.fetch(
        "SELECT * FROM fs_part_uses WHERE work_order_id = ANY($1::bigint[]) ORDER BY id", ids
    ):
        found[p["work_order_id"]].append(
            PartUse(
                part_no=p["part_no"],
                description=p["description"],
                quantity=Decimal(p["quantity"]),
                unit_price=p["unit_price"],
            )
        )
    return {k: tuple(v) for k, v in found.items()}


def _work(
    r: Any, minutes: dict[tuple[int, str], int], parts: tuple[PartUse, ...], before: int
) -> OrderWork:
    return OrderWork(
        number=r["number"],
        work_minutes=minutes.get((r["id"], "work"), 0),
        travel_minutes=minutes.get((r["id"], "travel"), 0),
        parts=parts,
        visit=r["visit"],
        visits_before=before,
        response_breach=float(r["response_breach"]),
        resolution_breach=float(r["resolution_breach"]),
    )
