"""Field-service benchmark: a month with 100,000 work orders.

Run: .venv/bin/python -m bench.fieldservice [--tenants N] [--orders-per-tenant N] [--repeats N]
Data goes into a scratch database on the local PostgreSQL (bulk COPY) that is dropped after.
Timed (medians): the SLA evaluation of the month (one query + pure clocks), the monthly
report of every tenant, and the month's invoice lines. The baseline is the row-by-row way (a
query per work order for its row, history, time and parts), on a sample of tenants; its
results are checked equal to the batched ones and its time is extrapolated per work order.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import machine, median, progress, scratch_database, server_url, table
from fieldservice import charges, invoicing, reports, timeline
from fieldservice.models import Actor, calendar_json, pricing_of
from fieldservice.sla import Deadlines, Step, clocks, deadlines
from fieldservice.states import HoldReason, State
from fieldservice.workcalendar import BusinessCalendar
from servitize import db

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar(holidays=frozenset({date(2026, 6, 19)}))
START, END = datetime(2026, 6, 1, tzinfo=SH), datetime(2026, 7, 1, tzinfo=SH)
ACTOR = Actor(name="bench", role="admin", tenant_id=None)
TIERS = [
    {"clock": "response", "over_minutes": 0, "amount": 20000},
    {"clock": "resolution", "over_minutes": 0, "amount": 30000},
]


def _history(rnd: random.Random, created: datetime) -> list[tuple[datetime, str, str | None]]:
    t = created + timedelta(minutes=rnd.randint(5, 60))
    out: list[tuple[datetime, str, str | None]] = [
        (created, "new", None),
        (t, "qualified", None),
        (t, "assigned", None),
    ]
    t += timedelta(minutes=rnd.randint(10, 600))
    out += [(t, "accepted", None), (t, "en_route", None)]
    t += timedelta(minutes=rnd.randint(20, 90))
    out.append((t, "in_progress", None))
    if rnd.random() < 0.2:
        t += timedelta(minutes=rnd.randint(10, 60))
        out.append((t, "on_hold", rnd.choice(["awaiting_customer", "awaiting_parts"])))
        t += timedelta(minutes=rnd.randint(30, 900))
        out.append((t, "in_progress", None))
    t += timedelta(minutes=rnd.randint(30, 1800))
    return [*out, (t, "completed", None)]


def _steps(hist: list[tuple[datetime, str, str | None]]) -> list[Step]:
    return [Step(at=a, to=State(s), hold=HoldReason(h) if h else None) for a, s, h in hist]


async def load(url: str, tenants: int, per_tenant: int) -> int:
    """Tenants, contracts and a month of completed work orders with events, time and parts."""
    rnd = random.Random(11)
    conn = await db.connect(url)
    try:
        tids = [f"t{i:04d}" for i in range(tenants)]
        await conn.copy_records_to_table(
            "tenants",
            records=[(t, t, "Asia/Shanghai") for t in tids],
            columns=["id", "name", "timezone"],
        )
        await conn.execute(
            "INSERT INTO fs_parts (part_no, description, unit_price) "
            "VALUES ('BRG-6204', 'bearing', 8640)"
        )
        contracts = {}
        for t in tids:
            contracts[t] = await conn.fetchval(
                "INSERT INTO fs_contracts (tenant_id, start_date, priorities, labour_rate, "
                "travel_rate, visit_price, included_visits, credit_tiers) VALUES ($1, "
                "'2026-01-01', $2, 18550, 12033, 35000, 200, $3) RETURNING id",
                t,
                {"p2": {"response": 240, "resolution": 960}},
                TIERS,
            )
        await _orders(conn, rnd, tids, contracts, per_tenant)
        await conn.execute("ANALYZE")
        return tenants * per_tenant
    finally:
        await conn.close()


async def _orders(
    conn: Any, rnd: random.Random, tids: list[str], contracts: dict[str, int], per_tenant: int
) -> None:
    orders, events, times, parts = [], [], [], []
    wid = 0
    for t in tids:
        for _ in range(per_tenant):
            wid += 1
            created = START + timedelta(minutes=rnd.randint(0, 27 * 24 * 60))
            d = deadlines(CAL, created, 240, 960)
            hist = _history(rnd, created)
            r, s = clocks(CAL, d, _steps(hist), END)
            accepted, done, began = hist[3][0], hist[-1][0], hist[5][0]
            orders.append((wid, f"WO-2026-{wid:06d}", t, contracts[t], "policy", "w", "p2",
                           "completed", created, "bench", 240, 960, d.response_due,
                           d.resolution_due, r.breach_minutes, s.breach_minutes, accepted,
                           done))  # fmt: skip
            events += [(wid, t, a, "bench", "transition", st, h) for a, st, h in hist]
            times += [(wid, "li", "travel", accepted, accepted + timedelta(minutes=30), "b"),
                      (wid, "li", "work", began, began + timedelta(minutes=95), "b")]  # fmt: skip
            parts.append((wid, "BRG-6204", "bearing", 2, 8640, done, "bench"))
    await conn.execute("INSERT INTO fs_technicians (id, name) VALUES ('li', 'Li')")
    await conn.copy_records_to_table("fs_work_orders", records=orders, columns=ORDER_COLUMNS)
    # jsonb has no binary COPY encoder: one calendar for all, events through a text column
    await conn.execute("UPDATE fs_work_orders SET sla_calendar = $1", calendar_json(CAL))
    await conn.execute(
        "CREATE TEMP TABLE ev (work_order_id bigint, tenant_id text, at timestamptz, "
        "actor text, action text, to_state text, hold text)"
    )
    await conn.copy_records_to_table("ev", records=events)
    await conn.execute(
        "INSERT INTO fs_events (work_order_id, tenant_id, at, actor, action, to_state, detail) "
        "SELECT work_order_id, tenant_id, at, actor, action, to_state, CASE WHEN hold IS NULL "
        "THEN '{}'::jsonb ELSE jsonb_build_object('hold', hold) END FROM ev"
    )
    await conn.copy_records_to_table(
        "fs_time_entries",
        records=times,
        columns=["work_order_id", "technician_id", "kind", "started_at", "ended_at", "created_by"],
    )
    await conn.copy_records_to_table(
        "fs_part_uses",
        records=parts,
        columns=[
            "work_order_id",
            "part_no",
            "description",
            "quantity",
            "unit_price",
            "at",
            "created_by",
        ],
    )


ORDER_COLUMNS = [
    *("id", "number", "tenant_id", "contract_id", "source", "title", "priority", "state"),
    *("created_at", "created_by", "response_target", "resolution_target", "response_due"),
    *("resolution_due", "response_breach", "resolution_breach", "accepted_at", "completed_at"),
]


def _decided(pair: list[Any]) -> tuple[float | None, float | None]:
    out = [c.breach_minutes if c.stopped_at or c.breached else None for c in pair]
    return out[0], out[1]


async def sla_row_by_row(conn: Any, ids: list[int]) -> dict[int, tuple[float | None, float | None]]:
    """The baseline: a query for the row and one for the history of each work order."""
    from fieldservice.models import calendar_from_json

    out = {}
    for wid in ids:
        row = await conn.fetchrow("SELECT * FROM fs_work_orders WHERE id = $1", wid)
        hist = await timeline.history(conn, wid)
        d = Deadlines(response_due=row["response_due"], resolution_due=row["resolution_due"])
        out[wid] = _decided(clocks(calendar_from_json(row["sla_calendar"]), d, hist, END))
    return out


async def lines_row_by_row(conn: Any, ids: list[int]) -> dict[str, int]:
    """The baseline invoice: per work order its row, contract, time, parts and visit count."""
    totals: dict[str, int] = {}
    for wid in ids:
        w = await conn.fetchrow("SELECT * FROM fs_work_orders WHERE id = $1", wid)
        c = await conn.fetchrow("SELECT * FROM fs_contracts WHERE id = $1", w["contract_id"])
        mins = {
            r["kind"]: r["m"]
            for r in await conn.fetch(
                "SELECT kind, round(sum(extract(epoch FROM ended_at - started_at)) / 60)::int AS m "
                "FROM fs_time_entries WHERE work_order_id = $1 GROUP BY kind",
                wid,
            )
        }
        used = tuple(
            charges.PartUse(
                part_no=p["part_no"],
                description=p["description"],
                quantity=p["quantity"],
                unit_price=p["unit_price"],
            )
            for p in await conn.fetch(
                "SELECT * FROM fs_part_uses WHERE work_order_id = $1 ORDER BY id", wid
            )
        )
        before = await conn.fetchval(
            "SELECT count(*) FROM fs_work_orders WHERE contract_id = $1 AND (completed_at, id) "
            "< ($2, $3)",
            w["contract_id"],
            w["completed_at"],
            wid,
        )
        work = charges.OrderWork(
            number=w["number"],
            work_minutes=mins.get("work", 0),
            travel_minutes=mins.get("travel", 0),
            parts=used,
            visit=True,
            visits_before=before,
            response_breach=float(w["response_breach"]),
            resolution_breach=float(w["resolution_breach"]),
        )
        amount = sum(x.amount for x in charges.charges(work, pricing_of(c)))
        totals[w["tenant_id"]] = totals.get(w["tenant_id"], 0) + amount
    return totals


async def timed(fn: Any, repeats: int) -> tuple[float, Any]:
    """Median seconds of `repeats` runs and the last result."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - t0)
    return median(times), result


async def run(tenants: int, per_tenant: int, repeats: int, sample: int) -> None:
    """Load, time batched and row-by-row, check they agree, print the table."""
    async with scratch_database(server_url()) as url:
        t0 = time.perf_counter()
        n = await load(url, tenants, per_tenant)
        progress(f"loaded {n} work orders in {time.perf_counter() - t0:.1f} s")
        pool = await db.create_pool(url, max_size=4)
        try:
            await _measure(pool, tenants, per_tenant, repeats, sample, n)
        finally:
            await pool.close()


async def _measure(
    pool: Any, tenants: int, per_tenant: int, repeats: int, sample: int, n: int
) -> None:
    tids = [f"t{i:04d}" for i in range(tenants)]
    async with pool.acquire() as conn:

        async def sla() -> Any:
            return timeline.evaluate(await timeline.month_rows(conn, None, START, END), END)

        async def lines() -> Any:
            return await invoicing.invoice_lines(conn, "2026-06", None)

        sla_s, verdicts = await timed(sla, repeats)
        lines_s, found = await timed(lines, repeats)
        ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM fs_work_orders WHERE tenant_id = ANY($1::text[]) ORDER BY id",
                tids[:sample],
            )
        ]
        base_sla_s, base_verdicts = await timed(lambda: sla_row_by_row(conn, ids), 1)
        base_lines_s, base_totals = await timed(lambda: lines_row_by_row(conn, ids), 1)
    await reports.monthly(pool, tids[0], "2026-06", ACTOR)  # warm-up: imports the alert service
    report_s, _ = await timed(lambda: _reports(pool, tids), repeats)
    assert all(verdicts[i] == base_verdicts[i] for i in ids), "SLA verdicts differ"
    for t in tids[:sample]:
        assert sum(c.amount for c in found[t]) == base_totals[t], f"invoice of {t} differs"
    k = len(ids)
    rows = [
        [
            "SLA evaluation (all clocks)",
            f"{sla_s:.2f}",
            f"{base_sla_s / k * 1000:.2f}",
            f"{base_sla_s / k * n:.1f}",
            f"{base_sla_s / k * n / sla_s:.1f}×",
        ],
        [
            "monthly report, every tenant",
            f"{report_s:.2f}",
            f"{base_sla_s / k * 1000:.2f}",
            f"{base_sla_s / k * n:.1f}",
            f"{base_sla_s / k * n / report_s:.1f}×",
        ],
        [
            "invoice lines of the month",
            f"{lines_s:.2f}",
            f"{base_lines_s / k * 1000:.2f}",
            f"{base_lines_s / k * n:.1f}",
            f"{base_lines_s / k * n / lines_s:.1f}×",
        ],
    ]
    print(f"{n} work orders, {tenants} tenants; {machine()}; {datetime.now():%Y-%m-%d}")
    print(f"row-by-row baseline measured on {k} work orders ({sample} tenants), same run\n")
    print(
        table(
            ["operation", "batched s", "row-by-row ms/order", "row-by-row s (all)", "speed-up"],
            rows,
        )
    )


async def _reports(pool: Any, tids: list[str]) -> None:
    for t in tids:
        await reports.monthly(pool, t, "2026-06", ACTOR)


def main() -> None:
    """Command line entry."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tenants", type=int, default=100)
    p.add_argument("--orders-per-tenant", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--sample", type=int, default=2, help="tenants measured row by row")
    a = p.parse_args()
    asyncio.run(run(a.tenants, a.orders_per_tenant, a.repeats, a.sample))


if __name__ == "__main__":
    main()
