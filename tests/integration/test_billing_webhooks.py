"""Invoice events delivered to a real HTTP receiver, signed like alert notifications."""

from __future__ import annotations

from analytics.alerts import service as analytics
from analytics.alerts.webhook_guard import WebhookPolicy, guarded_client
from billing import event_delivery
from servitize.db import Pool
from tests.integration.test_analytics_webhook import LOCAL, SECRET, Receiver, receiver
from tests.integration.test_api_support import client, seed
from tests.integration.test_billing_amounts_api import B, flat, subscribe

__all__ = ["receiver"]  # the fixture


async def deliver(pool: Pool, policy: WebhookPolicy = LOCAL) -> int:
    """One delivery pass through the guarded client (loopback allow-listed by default)."""
    async with guarded_client(policy) as c:
        return await event_delivery.deliver_due(pool, c)


async def test_invoice_events_reach_the_tenants_webhook(pool: Pool, receiver: Receiver) -> None:
    world = await seed(pool)
    fin = world.headers("finance")
    await analytics.set_webhook(pool, "acme", {"url": receiver.url, "secret": SECRET}, LOCAL)
    async with client(pool) as c:
        assert (await c.put(f"{B}/plans/care", json=flat("care", "300.00"), headers=fin)).is_success
        for tenant in ("acme", "globex"):
            await subscribe(c, fin, tenant, "care", [f"{tenant}-r1"], "2026-10-01")
        assert (await c.post(f"{B}/runs", json={"period": "2026-11"}, headers=fin)).is_success
        for inv in (await c.get(f"{B}/invoices", headers=fin)).json():
            assert (await c.post(f"{B}/invoices/{inv['id']}/finalize", headers=fin)).is_success
        # Without the allow-list the loopback receiver is never posted to.
        assert await deliver(pool, analytics.webhook_policy("")) == 0
        assert receiver.got == []
        async with pool.acquire() as conn:
            await conn.execute("UPDATE billing_events SET next_attempt_at = now()")
        receiver.fail_next = 1
        assert await deliver(pool) == 0  # acme's receiver answers 503; globex has no webhook
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT tenant_id, status FROM billing_events")
            states = {r["tenant_id"]: r["status"] for r in rows}
            assert states == {"acme": "pending", "globex": "skipped"}
            await conn.execute("UPDATE billing_events SET next_attempt_at = now()")
        assert await deliver(pool) == 1
        acme = next(
            i
            for i in (await c.get(f"{B}/invoices", headers=fin)).json()
            if i["tenant_id"] == "acme"
        )
        assert (await c.post(f"{B}/invoices/{acme['id']}/paid", headers=fin)).status_code == 204
        assert await deliver(pool) == 2  # payment, paid
    got = [(r["event"], r["ok"], r["body"]["data"].get("number")) for r in receiver.got]
    assert got[0] == ("invoice.issued", True, acme["number"])
    assert [g[0] for g in got] == ["invoice.issued", "invoice.payment", "invoice.paid"]
    assert receiver.got[1]["body"]["data"]["amount"] == "318.00"
