"""Billing run benchmark: 10,000 tenants, 100,000 devices, a month of usage events.

Run: .venv/bin/python -m bench.billing [--tenants N] [--devices-per-tenant N] [--repeats N]
Data goes into a scratch database on the local PostgreSQL (bulk COPY) that is dropped after.
The baseline is the row-by-row run a first implementation would write (a query per device
and usage type, day-by-day pricing, one INSERT per line), on a sample of the tenants; its
totals are checked against the real run's invoices for the same tenants.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg

from bench.common import machine, median, scratch_database, server_url
from billing import invoice_service, lifecycle
from billing.charge_models import charge_model
from billing.invoice_math import totals
from billing.models import Line, Period, Plan, Tier, UsagePrice, round_fen
from billing.pricing import included_units
from servitize import db

PERIOD = Period(2026, 11)
TIERS = (Tier(10, Decimal(10000)), Tier(50, Decimal(8000)), Tier(None, Decimal(6000)))
USAGE = UsagePrice("inspection_completed", Decimal(500), included_per_device=60)
PLANS = {
    m: Plan(m, m.title(), m, TIERS if m != "flat" else TIERS[-1:], usage=(USAGE,))
    for m in ("flat", "graduated", "volume")
}


def log(msg: str) -> None:
    """Progress on stderr."""
    print(msg, file=sys.stderr, flush=True)


SLA_TIERS = [{"below": "99.5", "credit": "10"}, {"below": "99", "credit": "25"}]


async def load(url: str, tenants: int, per_tenant: int, events_mean: int, sla: int) -> int:
    """Tenants, devices, plans, subscriptions, coverage and a month of events via COPY."""
    rnd = random.Random(7)
    conn = await db.connect(url)
    try:
        await conn.execute(
            "INSERT INTO device_types (id, name, reporting_interval_s) VALUES ('robot', 'R', 60)"
        )
        tids = [f"t{i:05d}" for i in range(tenants)]
        await conn.copy_records_to_table(
            "tenants",
            records=[(t, f"Tenant {t}", "Asia/Shanghai") for t in tids],
            columns=["id", "name", "timezone"],
        )
        for plan in PLANS.values():
            await conn.execute(
                """INSERT INTO billing_plans (id, name, pricing_model, tiers, usage_prices)
                   VALUES ($1, $1, $1, $2, $3)""",
                plan.id,
                [{"up_to": t.up_to, "unit_price": str(t.unit_price)} for t in plan.tiers],
                [{"usage_type": USAGE.usage_type, "unit_price": "500", "included_per_device": 60}],
            )
        await conn.execute(
            """INSERT INTO billing_plans (id, name, pricing_model, tiers, sla_target, sla_tiers)
               VALUES ('sla', 'SLA', 'flat', '[{"unit_price": "6000"}]', 99.5, $1)""",
            SLA_TIERS,
        )
        devices = [(f"{t}-d{j}", "robot", t) for t in tids for j in range(per_tenant)]
        await conn.copy_records_to_table(
            "devices", records=devices, columns=["id", "device_type_id", "tenant_id"]
        )
        log(f"  {len(tids)} tenants, {len(devices)} devices")
        subs = []
        for n, t in enumerate(tids, start=1):
            start = date(2026, 11, 15) if n % 20 == 0 else date(2026, 1, 1)
            end = date(2026, 11, 20) if n % 33 == 0 else None
            plan_id = "sla" if n > tenants - sla else ("flat", "graduated", "volume")[n % 3]
            subs.append((n, t, plan_id, start, end))
        await conn.copy_records_to_table(
            "billing_subscriptions",
            records=subs,
            columns=["id", "tenant_id", "plan_id", "start_date", "end_date"],
        )
        await conn.execute("SELECT setval('billing_subscriptions_id_seq', $1)", len(subs))
        cov = []
        for i, (dev, _, _) in enumerate(devices):
            # every tenth device joins on the 10th and leaves on the 20th
            span = (
                (date(2026, 11, 10), date(2026, 11, 20))
                if i % 10 == 9
                else (date(2026, 1, 1), None)
            )
            cov.append((i // per_tenant + 1, dev, *span))
        await conn.copy_records_to_table(
            "billing_coverage",
            records=cov,
            columns=["subscription_id", "device_id", "start_date", "end_date"],
        )
        await _sla_telemetry(conn, tids[tenants - sla :])
        return await _events(conn, devices, events_mean, rnd)
    finally:
        await conn.close()


async def _sla_telemetry(conn: db.Connection, tenants: list[str]) -> None:
    """A month of 5-minute telemetry with random gaps for the SLA plan's tenants."""
    # about 0.7 % of intervals missing: some tenants land above, some below the target
    status = await conn.execute(
        """INSERT INTO telemetry (device_id, metric, ts, value)
           SELECT d.id, 'temp', TIMESTAMPTZ '2026-10-31 16:01:00+00' + i * interval '5 min', 1
           FROM devices d, generate_series(0, 8639) i
           WHERE d.tenant_id = ANY($1::text[]) AND random() > 0.007""",
        tenants,
    )
    log(f"  SLA telemetry: {status.split()[-1]} rows for {len(tenants)} tenants")


async def _events(
    conn: db.Connection, devices: list[tuple[str, str, str]], mean: int, rnd: random.Random
) -> int:
    start = datetime(2026, 10, 31, 12, tzinfo=UTC)  # a little before November in Shanghai
    span = 31 * 86400
    total = 0
    batch: list[tuple[str, datetime, str]] = []
    for n, (dev, _, _) in enumerate(devices, start=1):
        count = rnd.randint(0, 2 * mean)
        stamps = sorted({rnd.randrange(span) for _ in range(count)})
        batch.extend((dev, start + timedelta(seconds=s), "inspection_completed") for s in stamps)
        if len(batch) > 200_000 or n == len(devices):
            await conn.copy_records_to_table(
                "device_events", records=batch, columns=["device_id", "ts", "type"]
            )
            total += len(batch)
            batch = []
            log(f"  events: {total} rows ({n}/{len(devices)} devices)")
    # what autovacuum does soon after a bulk load: statistics and the visibility map
    # (index-only scans of telemetry for availability)
    await conn.execute("VACUUM ANALYZE")
    return total


async def naive_run(pool: db.Pool, tenants: list[str]) -> dict[str, int]:
    """Row-by-row: a query per subscription, device and usage type, pricing day by day."""
    out = {}
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS naive_lines (tenant_id text, kind text, amount bigint)"
        )
        await conn.execute("TRUNCATE naive_lines")
        for t in tenants:
            lines = await _naive_tenant(conn, t)
            for ln in lines:
                await conn.execute(
                    "INSERT INTO naive_lines VALUES ($1, $2, $3)", t, ln.kind, ln.amount
                )
            out[t] = totals(lines).total
    return out


async def _naive_tenant(conn: db.Connection, tenant: str) -> list[Line]:
    tz = await conn.fetchval("SELECT timezone FROM tenants WHERE id = $1", tenant)
    lines = []
    for sub in await conn.fetch("SELECT * FROM billing_subscriptions WHERE tenant_id = $1", tenant):
        plan = PLANS[sub["plan_id"]]
        covs = await conn.fetch(
            "SELECT * FROM billing_coverage WHERE subscription_id = $1", sub["id"]
        )
        day_counts, used = [], 0
        for d in range(PERIOD.days):
            day = PERIOD.first + timedelta(days=d)
            day_counts.append(sum(1 for c in covs if _covered(c, sub, day)))
        for c in covs:
            lo = max(c["start_date"], sub["start_date"], PERIOD.first)
            hi = min(x for x in (c["end_date"], sub["end_date"], PERIOD.next_first) if x)
            if hi > lo:
                used += await conn.fetchval(
                    """SELECT count(*) FROM device_events WHERE device_id = $1 AND type = $2
                       AND ts >= ($3::date::timestamp AT TIME ZONE $5)
                       AND ts < ($4::date::timestamp AT TIME ZONE $5)""",
                    c["device_id"],
                    USAGE.usage_type,
                    lo,
                    hi,
                    tz,
                )
        model = charge_model(plan.pricing_model)
        fee = sum((model.monthly_price(n, plan.tiers) for n in day_counts), Decimal(0))
        if sum(day_counts):
            lines.append(Line("recurring", "", round_fen(fee / PERIOD.days), plan.vat_rate))
        included = included_units(USAGE, sum(day_counts), PERIOD.days)
        if used:
            lines.append(Line("overage", "", max(0, used - included) * 500, plan.vat_rate))
    return lines


def _covered(cov: asyncpg.Record, sub: asyncpg.Record, day: date) -> bool:
    """Whether a coverage row (inside its subscription) covers a day."""
    for row in (cov, sub):
        if row["start_date"] > day or (row["end_date"] is not None and day >= row["end_date"]):
            return False
    return True


async def bench(args: argparse.Namespace) -> None:
    """Load, then time the real run and the baseline, and print the table."""
    async with scratch_database(server_url()) as url:
        started = time.perf_counter()
        log(f"loading {args.tenants} tenants x {args.devices_per_tenant} devices ...")
        events = await load(
            url, args.tenants, args.devices_per_tenant, args.events, args.sla_tenants
        )
        log(f"loaded in {time.perf_counter() - started:.1f} s")
        pool = await db.create_pool(url, max_size=4)
        try:
            real, naive = [], []
            for r in range(args.repeats):
                t0 = time.perf_counter()
                result = await invoice_service.run_period(pool, PERIOD, None, _progress)
                real.append(time.perf_counter() - t0)
                log(
                    f"run {r + 1}/{args.repeats}: {real[-1]:.1f} s, {result.drafts} drafts, "
                    f"{result.lines} lines"
                )
            # the baseline leaves SLA out, so it samples tenants on the other plans
            step = max(1, (args.tenants - args.sla_tenants) // args.sample)
            sample = [f"t{i:05d}" for i in range(0, args.tenants - args.sla_tenants, step)]
            for r in range(args.repeats):
                t0 = time.perf_counter()
                naive_totals = await naive_run(pool, sample)
                naive.append(time.perf_counter() - t0)
                log(f"baseline {r + 1}/{args.repeats}: {naive[-1]:.1f} s for {len(sample)}")
            await _check(pool, naive_totals)
            issue = await _finalizations(pool, args.repeats)
        finally:
            await pool.close()
    _table(args, events, result.lines, real, naive, len(sample), issue)


async def _finalizations(pool: db.Pool, repeats: int) -> list[float]:
    """Time finalizing every draft of the period; between repeats, void and bill again."""
    took = []
    for r in range(repeats):
        if r:
            async with pool.acquire() as conn:
                await conn.execute(
                    "UPDATE billing_invoices SET status = 'void', voided_at = now(), "
                    "void_reason = 'benchmark repeat' WHERE status = 'finalized'"
                )
            await invoice_service.run_period(pool, PERIOD)
        t0 = time.perf_counter()
        issued = await lifecycle.finalize_period(pool, PERIOD)
        took.append(time.perf_counter() - t0)
        log(f"finalize {r + 1}/{repeats}: {took[-1]:.1f} s, {len(issued)} invoices")
    return took


def _progress(done: int, total: int) -> None:
    if done == total or done % 2500 == 0:
        log(f"  written {done}/{total} tenants")


async def _check(pool: db.Pool, naive_totals: dict[str, int]) -> None:
    """The baseline and the real run must agree on every sampled tenant's total."""
    invoices = {
        i["tenant_id"]: i["total"] for i in await invoice_service.list_invoices(pool, str(PERIOD))
    }
    wrong = {t: (v, invoices.get(t)) for t, v in naive_totals.items() if invoices.get(t) != v}
    if wrong:
        raise SystemExit(f"baseline and run disagree: {dict(list(wrong.items())[:5])}")
    log(f"baseline totals match the run's invoices for {len(naive_totals)} tenants")


def _table(
    args: argparse.Namespace,
    events: int,
    lines: int,
    real: list[float],
    naive: list[float],
    sample: int,
    issue: list[float],
) -> None:
    per_real = median(real) / args.tenants * 1000
    per_naive = median(naive) / sample * 1000
    print(
        f"\nBilling run, {PERIOD}: {args.tenants} tenants, "
        f"{args.tenants * args.devices_per_tenant} devices, {events} usage events, "
        f"{lines} invoice lines; {args.sla_tenants} tenants "
        f"({args.sla_tenants * args.devices_per_tenant} devices) on an SLA plan with a month of "
        f"5-minute telemetry; medians of {args.repeats} repeats. Machine: {machine()}\n"
    )
    print("| run | tenants | median s | ms per tenant | 10,000 tenants (s) |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| set-based run (`servitize bill`) | {args.tenants} | {median(real):.2f} | "
        f"{per_real:.2f} | {per_real * 10:.1f} |"
    )
    print(
        f"| row-by-row baseline | {sample} | {median(naive):.2f} | {per_naive:.2f} | "
        f"{per_naive * 10:.1f} (extrapolated) |"
    )
    print(
        f"| finalize the period (numbers + hashes) | {args.tenants} | {median(issue):.2f} | "
        f"{median(issue) / args.tenants * 1000:.2f} | |"
    )
    print(f"\nspeed-up of the run per tenant over the baseline: {per_naive / per_real:.1f}x")


def main() -> None:
    """Parse arguments and run."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tenants", type=int, default=10_000)
    p.add_argument("--devices-per-tenant", type=int, default=10)
    p.add_argument("--events", type=int, default=20, help="mean events per device-month")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--sample", type=int, default=500, help="tenants in the baseline")
    p.add_argument("--sla-tenants", type=int, default=10, help="tenants on the SLA plan")
    asyncio.run(bench(p.parse_args()))


if __name__ == "__main__":
    main()
