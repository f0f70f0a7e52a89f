"""Billing API over HTTP (in-process): roles, tenant isolation, life cycle, PDF and CSV."""

from __future__ import annotations

from servitize.db import Pool
from tests.integration.test_api_support import client, seed
from tests.integration.test_billing_helpers import ROBOT_PLAN

B = "/api/v1/billing"


async def test_billing_api_life_cycle_and_isolation(pool: Pool) -> None:
    world = await seed(pool)
    fin, acme = world.headers("finance"), world.headers("viewer", "acme")
    async with client(pool) as c:
        plan = ROBOT_PLAN.model_dump(mode="json")
        assert (
            await c.put(f"{B}/plans/{ROBOT_PLAN.id}", json=plan, headers=fin)
        ).status_code == 200
        for t in ("acme", "globex"):
            body = {
                "tenant_id": t,
                "plan_id": ROBOT_PLAN.id,
                "start_date": "2026-10-01",
                "device_ids": [f"{t}-r1"],
            }
            assert (await c.post(f"{B}/subscriptions", json=body, headers=fin)).status_code == 201
        # a tenant key may not run billing; a provider finance key may
        run = {"period": "2026-11"}
        assert (
            await c.post(f"{B}/runs", json=run, headers=world.headers("finance", "acme"))
        ).status_code == 403
        done = (await c.post(f"{B}/runs", json=run, headers=fin)).json()
        assert done["drafts"] == 2
        bad = await c.post(f"{B}/runs", json={"period": "2026-13"}, headers=fin)
        assert bad.status_code == 422 and "YYYY-MM" in bad.json()["detail"]
        everything = (await c.get(f"{B}/invoices?period=2026-11", headers=fin)).json()
        own = (await c.get(f"{B}/invoices", headers=acme)).json()
        assert {i["tenant_id"] for i in everything} == {"acme", "globex"}
        assert [i["tenant_id"] for i in own] == ["acme"]
        theirs = next(i["id"] for i in everything if i["tenant_id"] == "globex")
        mine = own[0]["id"]
        assert (await c.get(f"{B}/invoices/{theirs}", headers=acme)).status_code == 404
        assert (await c.get(f"{B}/invoices/{theirs}/pdf", headers=acme)).status_code == 404
        assert (await c.get(f"{B}/invoices", headers=world.headers("operator"))).status_code == 403
        detail = (await c.get(f"{B}/invoices/{mine}", headers=acme)).json()
        assert detail["lines"][0]["kind"] == "recurring" and detail["status"] == "draft"
        issued = await c.post(f"{B}/invoices/{mine}/finalize", headers=fin)
        assert issued.status_code == 200 and issued.json()["number"].startswith("INV-")
        again = await c.post(f"{B}/invoices/{mine}/finalize", headers=fin)
        assert again.status_code == 409
        note = {
            "reason": "goodwill",
            "lines": [{"description": "r1 outage", "amount": "5.00", "vat_rate": "0.06"}],
        }
        cn = await c.post(f"{B}/invoices/{mine}/credit-notes", json=note, headers=fin)
        assert cn.status_code == 201 and cn.json()["total"] == "5.30"
        notes = (await c.get(f"{B}/invoices/{mine}/credit-notes", headers=acme)).json()
        assert [n["number"] for n in notes] == [cn.json()["number"]]
        assert (await c.get(f"{B}/invoices/{theirs}/credit-notes", headers=acme)).status_code == 404
        check = (await c.get(f"{B}/invoices/{mine}/verify", headers=acme)).json()
        assert check == {"id": mine, "intact": True}
        pdf = await c.get(f"{B}/invoices/{mine}/pdf", headers=acme)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        csv_text = (await c.get(f"{B}/periods/2026-11/lines.csv", headers=acme)).text
        assert "acme" in csv_text and "globex" not in csv_text
        rev = (await c.get(f"{B}/revenue?from=2026-11&to=2026-11", headers=fin)).json()
        assert rev["months"][0]["mrr"] == "300.00"  # only acme's issued invoice counts


async def test_billing_api_rejects_bad_input_with_problems(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    async with client(pool) as c:
        plan = ROBOT_PLAN.model_dump(mode="json")
        await c.put(f"{B}/plans/{ROBOT_PLAN.id}", json=plan, headers=fin)
        base = {"tenant_id": "acme", "plan_id": ROBOT_PLAN.id, "start_date": "2026-10-01"}
        cases = [
            ({**base, "tenant_id": "nobody"}, 404, "tenant nobody"),
            ({**base, "plan_id": "gold"}, 404, "plan"),
            ({**base, "end_date": "2026-09-30"}, 422, "end_date"),
            ({**base, "device_ids": ["globex-r1"]}, 422, "another tenant"),
            ({**base, "trial_days": -1}, 422, ""),
        ]
        for body, status, text in cases:
            r = await c.post(f"{B}/subscriptions", json=body, headers=fin)
            assert r.status_code == status, (body, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert text in r.text
        bad_plan = {**plan, "tiers": [{"up_to": 5, "unit_price": "1"}]}
        r = await c.put(f"{B}/plans/{ROBOT_PLAN.id}", json=bad_plan, headers=fin)
        assert r.status_code == 422 and "up_to = None" in r.json()["detail"]
        assert (await c.get(f"{B}/invoices/999", headers=fin)).status_code == 404
