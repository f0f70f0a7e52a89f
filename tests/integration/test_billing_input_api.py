"""Issue #14 "bad input reaches the arithmetic", through the API on real PostgreSQL."""

from __future__ import annotations

from typing import Any

from servitize.db import Pool
from tests.integration.test_api_support import client, seed
from tests.integration.test_billing_amounts_api import B, flat, only_invoice, subscribe


def field_problem(r: Any, field: str) -> None:
    """A 422 problem+json naming the field."""
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(e["loc"][-1] == field for e in r.json()["errors"]), r.json()


async def test_plans_with_unbounded_prices_or_bad_fields_are_refused(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    async with client(pool) as c:
        huge = await c.put(f"{B}/plans/p", json=flat("p", "1e30"), headers=fin)
        field_problem(huge, "unit_price")
        sla = await c.put(f"{B}/plans/p", json=flat("p", "1.00", sla_target=150), headers=fin)
        field_problem(sla, "sla_target")
        xyz = await c.put(f"{B}/plans/p", json=flat("p", "1.00", currency="XYZ"), headers=fin)
        field_problem(xyz, "currency")
        assert "ISO 4217" in xyz.text
        # a fee is a whole amount: BHD has 3 decimal places (unit prices may carry 4 more)
        fee = [{"name": "install", "amount": "1.2345"}]
        body = flat("p", "1.2345", currency="BHD", one_off_fees=fee)
        fils = await c.put(f"{B}/plans/p", json=body, headers=fin)
        assert fils.status_code == 422 and "decimal places" in fils.text
        assert (await c.get(f"{B}/plans", headers=fin)).json() == []


async def test_runs_refuse_sloppy_periods_and_unknown_tenants(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    async with client(pool) as c:
        for period in ("2026-11 ", "２０２６-11", "2026-1"):
            r = await c.post(f"{B}/runs", json={"period": period}, headers=fin)
            field_problem(r, "period")
            assert "YYYY-MM" in r.json()["detail"]
        body = {"period": "2026-11", "tenant_ids": ["acme", "nobody"]}
        r = await c.post(f"{B}/runs", json=body, headers=fin)
        assert r.status_code == 404 and "nobody" in r.json()["detail"]
        epoch = await c.get(f"{B}/revenue?from=1970-01&to=1970-01", headers=fin)
        assert epoch.status_code == 200, epoch.text
        assert epoch.json()["months"] == []
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM billing_runs") == 0  # none ran


async def test_a_tenant_that_cannot_be_priced_does_not_block_the_others(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    async with client(pool) as c:
        assert (await c.put(f"{B}/plans/ok", json=flat("ok", "300.00"), headers=fin)).is_success
        await subscribe(c, fin, "acme", "ok", ["acme-r1"], "2026-10-01")
        # a plan stored before prices were bounded (written straight into the table)
        async with pool.acquire() as conn:
            await conn.execute(
                """INSERT INTO billing_plans (id, name, pricing_model, tiers)
                   VALUES ('legacy', 'Legacy', 'flat', '[{"unit_price": "1e30"}]')"""
            )
            sub = await conn.fetchval(
                """INSERT INTO billing_subscriptions (tenant_id, plan_id, start_date)
                   VALUES ('globex', 'legacy', '2026-10-01') RETURNING id"""
            )
            await conn.execute(
                """INSERT INTO billing_coverage (subscription_id, device_id, start_date)
                   VALUES ($1, 'globex-r1', '2026-10-01')""",
                sub,
            )
        r = await c.post(f"{B}/runs", json={"period": "2026-11"}, headers=fin)
        assert r.status_code == 200, r.text
        assert r.json()["drafts"] == 1
        [failure] = r.json()["failed"]
        assert failure["tenant_id"] == "globex" and "legacy" in failure["error"]
        inv = await only_invoice(c, fin, "2026-11")
        assert (inv["tenant_id"], inv["total"]) == ("acme", "318.00")
    async with pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT failures FROM billing_runs WHERE id = $1", r.json()["run_id"]
        )
    assert [f["tenant_id"] for f in stored] == ["globex"]


async def test_each_currency_rounds_and_prints_in_its_own_minor_unit(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    async with client(pool) as c:
        plans = (
            flat("yen", "30000", "0.10", currency="JPY"),
            flat("dinar", "12.345", "0.10", currency="BHD"),
        )
        for plan in plans:
            assert (await c.put(f"{B}/plans/{plan['id']}", json=plan, headers=fin)).is_success
        # Nov 21 .. 30: 10 of 30 days
        await subscribe(c, fin, "acme", "yen", ["acme-r1"], "2026-11-21")
        await subscribe(c, fin, "globex", "dinar", ["globex-r1"], "2026-11-21")
        assert (await c.post(f"{B}/runs", json={"period": "2026-11"}, headers=fin)).is_success
        heads = (await c.get(f"{B}/invoices?period=2026-11", headers=fin)).json()
    got = {
        i["tenant_id"]: (i["currency"], i["minor_unit"], i["subtotal"], i["vat"], i["total"])
        for i in heads
    }
    # 30000 yen x 10/30 = 10000 yen, VAT 10 % = 1000;
    # 12.345 BHD x 10/30 = 4.115 BHD, VAT 0.4115 -> 0.412
    assert got == {
        "acme": ("JPY", 0, "10000", "1000", "11000"),
        "globex": ("BHD", 3, "4.115", "0.412", "4.527"),
    }
