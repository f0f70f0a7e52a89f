"""Invoice events (issued, credited, payment, paid, overdue, voided) to the tenant's webhook.

The webhook is the one a tenant set for alerts (analytics' settings, read through its
service); bodies are JSON signed like alert notifications (`X-Servitize-Signature:
sha256=<hmac>` over the exact bytes), with `X-Servitize-Event: invoice.<kind>`. A failed
delivery is retried with the same backoff as alerts, and marked failed after MAX_ATTEMPTS;
an event of a tenant without an enabled webhook is marked skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx

from analytics.alerts import notify
from analytics.alerts import service as analytics
from billing import event_repository as event_repo
from servitize.db import Pool, transaction

log = logging.getLogger(__name__)


def request_for(hook: dict[str, Any], event: Any) -> tuple[str, bytes, dict[str, str]]:
    """URL, body bytes and headers of one delivery."""
    body = {
        "event": f"invoice.{event['kind']}",
        "delivery_id": f"billing-{event['id']}",
        "invoice_id": event["invoice_id"],
        "tenant_id": event["tenant_id"],
        "data": event["payload"],
        "created_at": event["created_at"].isoformat(),
    }
    url = hook["url"]
    if hook["format"] == "dingtalk":
        text = f"### invoice.{event['kind']}\n- {json.dumps(event['payload'], ensure_ascii=False)}"
        body = {"msgtype": "markdown", "markdown": {"title": body["event"], "text": text}}
        url = notify.dingtalk_url(url, hook["secret"])
    raw = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Servitize-Event": f"invoice.{event['kind']}",
        "X-Servitize-Delivery": f"billing-{event['id']}",
        "X-Servitize-Signature": notify.sign(hook["secret"], raw),
    }
    return url, raw, headers


async def deliver_due(pool: Pool, client: httpx.AsyncClient, limit: int = 20) -> int:
    """Send due invoice events; how many were delivered."""
    sent = 0
    async with transaction(pool) as conn:
        for event in await event_repo.due(conn, limit):
            hook = await analytics.delivery_webhook(pool, event["tenant_id"])
            if hook is None or not hook["enabled"]:
                await event_repo.attempted(conn, event["id"], "skipped", 0, "no webhook", 0)
                continue
            error = await _send(client, hook, event)
            sent += error is None
            await _record(conn, event, error)
    return sent


async def _send(client: httpx.AsyncClient, hook: dict[str, Any], event: Any) -> str | None:
    return await notify.post(client, *request_for(hook, event))


async def _record(conn: Any, event: Any, error: str | None) -> None:
    attempts = event["attempts"] + 1
    if error is None:
        await event_repo.attempted(conn, event["id"], "sent", attempts, None, 0)
        return
    log.warning("invoice event %s delivery failed (attempt %d): %s", event["id"], attempts, error)
    status = "failed" if attempts >= notify.MAX_ATTEMPTS else "pending"
    await event_repo.attempted(
        conn, event["id"], status, attempts, error, notify.backoff_s(attempts)
    )


async def run(pool: Pool, stop: asyncio.Event, poll_s: float = 1.0) -> None:
    """Deliver invoice events until stop is set (the alerts' notifier loop)."""
    policy = analytics.webhook_policy()
    await notify.run_notifier(pool, stop, policy, poll_s, deliver=deliver_due)
