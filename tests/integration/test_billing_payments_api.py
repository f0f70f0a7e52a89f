"""Due dates, partial payments, overdue invoices and the invoice events feed (API, real DB)."""

from __future__ import annotations

from datetime import date, timedelta

from billing import payments
from servitize.db import Pool
from tests.integration.test_api_support import client, seed
from tests.integration.test_billing_amounts_api import B, flat, note, only_invoice, subscribe


async def test_partial_payments_settle_an_invoice_and_events_tell_the_story(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    async with client(pool) as c:
        assert (await c.put(f"{B}/plans/care", json=flat("care", "300.00"), headers=fin)).is_success
        await subscribe(c, fin, "acme", "care", ["acme-r1"], "2026-10-01")
        await subscribe(c, fin, "globex", "care", ["globex-r1"], "2026-10-01")
        assert (await c.post(f"{B}/runs", json={"period": "2026-11"}, headers=fin)).is_success
        heads = (await c.get(f"{B}/invoices?period=2026-11", headers=fin)).json()
        ids = {h["tenant_id"]: h["id"] for h in heads}
        for i in ids.values():
            assert (await c.post(f"{B}/invoices/{i}/finalize", headers=fin)).is_success
        url = f"{B}/invoices/{ids['acme']}"
        inv = (await c.get(url, headers=fin)).json()
        # 300.00 + 6 % = 318.00, due 30 days after issue (settings' payment terms)
        issued_on = date.fromisoformat(inv["finalized_at"][:10])
        assert date.fromisoformat(inv["due_date"]) - issued_on in (timedelta(30), timedelta(31))
        assert (inv["payment_status"], inv["amount_due"]) == ("unpaid", "318.00")
        assert (
            await c.post(f"{url}/credit-notes", json=note("5.00", "0.06"), headers=fin)
        ).is_success

        def pay(amount: str) -> dict[str, str]:
            return {"amount": amount, "paid_on": "2026-12-05", "reference": "bank 1"}

        first = await c.post(f"{url}/payments", json=pay("100.00"), headers=fin)
        assert first.status_code == 201 and first.json()["amount"] == "100.00"
        inv = (await c.get(url, headers=fin)).json()
        # 318.00 - 5.30 credited - 100.00 paid = 212.70
        assert (inv["payment_status"], inv["amount_due"], inv["amount_paid"]) == (
            "partially_paid",
            "212.70",
            "100.00",
        )
        too_much = await c.post(f"{url}/payments", json=pay("300.00"), headers=fin)
        assert too_much.status_code == 422 and "212.70" in too_much.json()["detail"]
        assert (await c.post(f"{url}/payments", json=pay("0.001"), headers=fin)).status_code == 422
        rest = await c.post(f"{url}/payments", json=pay("212.70"), headers=fin)
        assert rest.status_code == 201
        inv = (await c.get(url, headers=fin)).json()
        assert (inv["status"], inv["payment_status"], inv["amount_due"]) == ("paid", "paid", "0.00")
        assert (await c.post(f"{url}/payments", json=pay("1.00"), headers=fin)).status_code == 409
        listed = (await c.get(f"{url}/payments", headers=world.headers("viewer", "acme"))).json()
        assert [p["amount"] for p in listed] == ["100.00", "212.70"]
        feed = (await c.get(f"{B}/events", headers=world.headers("viewer", "acme"))).json()
        assert [e["kind"] for e in feed] == ["issued", "credited", "payment", "payment", "paid"]
        later = (await c.get(f"{B}/events?after={feed[2]['id']}", headers=fin)).json()
        assert [e["kind"] for e in later] == ["payment", "paid"]
        # globex has not paid: one day past its due date it is overdue, flagged once
        other = (await c.get(f"{B}/invoices/{ids['globex']}", headers=fin)).json()
    day_after = date.fromisoformat(other["due_date"]) + timedelta(days=1)
    flagged = await payments.flag_overdue(pool, day_after)
    assert [(r["id"], r["outstanding"]) for r in flagged] == [(ids["globex"], 31800)]
    assert await payments.flag_overdue(pool, day_after) == []
    assert await payments.flag_overdue(pool, day_after - timedelta(days=1)) == []
    shown = {**other, "total": 31800, "status": "finalized", "due_date": day_after - timedelta(1)}
    assert payments.payment_status(shown, 0, 0, day_after) == "overdue"
    assert payments.payment_status(shown, 10000, 0, day_after - timedelta(1)) == "partially_paid"


async def test_a_coupon_takes_its_share_off_the_months_it_covers(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    coupon = {"code": "WELCOME10", "name": "Welcome", "percent_off": "10", "duration_months": 1}
    async with client(pool) as c:
        assert (await c.put(f"{B}/plans/care", json=flat("care", "300.00"), headers=fin)).is_success
        await subscribe(c, fin, "acme", "care", ["acme-r1"], "2026-10-01")
        assert (await c.put(f"{B}/coupons/WELCOME10", json=coupon, headers=fin)).is_success
        both = {**coupon, "amount_off": "5.00", "currency": "CNY"}
        assert (await c.put(f"{B}/coupons/WELCOME10", json=both, headers=fin)).status_code == 422
        url = f"{B}/coupons/WELCOME10/redemptions"
        body = {"tenant_id": "acme", "first_period": "2026-11"}
        assert (await c.post(url, json=body, headers=fin)).status_code == 204
        assert (await c.post(url, json=body, headers=fin)).status_code == 409
        missing = await c.post(f"{B}/coupons/NOPE/redemptions", json=body, headers=fin)
        assert missing.status_code == 404
        for period in ("2026-11", "2026-12"):
            assert (await c.post(f"{B}/runs", json={"period": period}, headers=fin)).is_success
        nov = await only_invoice(c, fin, "2026-11")
        dec = await only_invoice(c, fin, "2026-12")
    # 300.00 - 10 % = 270.00, VAT 16.20, total 286.20; December is past its one month
    assert [(ln["kind"], ln["amount"]) for ln in nov["lines"]][-1] == ("discount", "-30.00")
    assert (nov["subtotal"], nov["vat"], nov["total"]) == ("270.00", "16.20", "286.20")
    assert "discount" not in [ln["kind"] for ln in dec["lines"]]


async def test_prepaid_credit_pays_issued_invoices_soonest_expiry_first(pool: Pool) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    async with client(pool) as c:
        assert (await c.put(f"{B}/plans/care", json=flat("care", "300.00"), headers=fin)).is_success
        await subscribe(c, fin, "acme", "care", ["acme-r1"], "2026-10-01")
        w = f"{B}/wallets/acme"
        for amount, expires in (
            ("50.00", "2026-11-30"),
            ("500.00", None),
            ("200.00", "2099-06-30"),
        ):
            body = {"amount": amount, "expires_on": expires, "reference": "prepaid"}
            assert (await c.post(f"{w}/top-ups", json=body, headers=fin)).status_code == 201
        bad = await c.post(f"{w}/top-ups", json={"amount": "1", "currency": "XYZ"}, headers=fin)
        assert bad.status_code == 422
        theirs = await c.get(f"{B}/wallets/globex", headers=world.headers("viewer", "acme"))
        assert theirs.status_code == 404
        # the 50.00 expired yesterday (these tests run on or after 2026-12-01)
        assert (await c.get(w, headers=fin)).json()["balances"] == {"CNY": "700.00"}
        for period in ("2026-10", "2026-11"):
            assert (await c.post(f"{B}/runs", json={"period": period}, headers=fin)).is_success
            inv = await only_invoice(c, fin, period)
            assert (await c.post(f"{B}/invoices/{inv['id']}/finalize", headers=fin)).is_success
        october = await only_invoice(c, fin, "2026-10")
        november = await only_invoice(c, fin, "2026-11")
        paid = (await c.get(f"{B}/invoices/{november['id']}/payments", headers=fin)).json()
        balance = (await c.get(w, headers=fin)).json()["balances"]
    # October 318.00: 200.00 (expires 2099-06-30) + 118.00 of the 500.00; November 318.00 from
    # the 382.00 left; 64.00 remain
    assert (october["status"], november["status"]) == ("paid", "paid")
    assert [p["amount"] for p in paid] == ["318.00"]
    assert balance == {"CNY": "64.00"}
