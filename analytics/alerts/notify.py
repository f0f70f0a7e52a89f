"""Webhook delivery from the notifications outbox: signed JSON or DingTalk robot messages.

Each body is signed with HMAC-SHA256 over the exact bytes sent, in the header
`X-Servitize-Signature: sha256=<hex>`. DingTalk robots additionally get their own signed URL
(timestamp and sign query parameters, as the DingTalk custom robot "加签" option expects).
Failures are retried with exponential backoff and recorded; after MAX_ATTEMPTS the
notification is marked failed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from analytics.alerts.webhook_guard import BlockedUrl, WebhookPolicy, guarded_client
from servitize.db import Pool, transaction

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# 2 s doubling to at most 10 min: a receiver down for an hour still gets the message.
BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 600.0
TIMEOUT_S = 5.0


def sign(secret: str, body: bytes) -> str:
    """The signature header value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """Check a signature header in constant time (what a receiver does)."""
    return hmac.compare_digest(sign(secret, body), header)


def backoff_s(attempts: int) -> float:
    """Delay before retry number `attempts` (1-based)."""
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(attempts - 1, 0)))


def dingtalk_body(payload: dict[str, Any]) -> dict[str, Any]:
    """A DingTalk robot markdown message for an alert notification."""
    a = payload["alert"]
    title = f"[{a['severity']}] {payload['event']}: {a['device_id']} {a['rule']}"
    lines = [
        f"### {title}",
        f"- {a['sentence']}",
        f"- tenant {a['tenant_id']}, site {a.get('site_id') or '-'}",
        f"- evidence {a['first_ts']} … {a['last_ts']}",
    ]
    return {"msgtype": "markdown", "markdown": {"title": title, "text": "\n".join(lines)}}


def dingtalk_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """The robot URL with DingTalk's timestamp and HMAC-SHA256 (base64) sign parameters."""
    ts = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    sig = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sig}"


def request_for(hook: Any, note: Any) -> tuple[str, bytes, dict[str, str]]:
    """URL, body bytes and headers of one delivery."""
    payload = dict(note["payload"])
    payload["delivery_id"] = note["id"]
    url = hook["url"]
    if hook["format"] == "dingtalk":
        body = json.dumps(dingtalk_body(payload), ensure_ascii=False).encode()
        url = dingtalk_url(url, hook["secret"])
    else:
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Servitize-Event": note["kind"],
        "X-Servitize-Delivery": str(note["id"]),
        "X-Servitize-Signature": sign(hook["secret"], body),
    }
    return url, body, headers


async def deliver_due(pool: Pool, client: httpx.AsyncClient, limit: int = 20) -> int:
    """Send due notifications (several notifiers may run: rows are claimed with SKIP LOCKED)."""
    sent = 0
    async with transaction(pool) as conn:
        notes = await conn.fetch(
            "SELECT n.*, w.url, w.secret, w.format, w.enabled FROM notifications n "
            "LEFT JOIN webhooks w ON w.tenant_id = n.tenant_id WHERE n.status = 'pending' "
            "AND n.next_attempt_at <= now() ORDER BY n.id LIMIT $1 FOR UPDATE OF n SKIP LOCKED",
            limit,
        )
        for note in notes:
            error = await _send(client, note)
            sent += error is None
            await _record(conn, note, error)
    return sent


async def _send(client: httpx.AsyncClient, note: Any) -> str | None:
    if note["url"] is None or not note["enabled"]:
        return "webhook removed or disabled"
    return await post(client, *request_for(note, note))


async def post(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> str | None:
    """POST one signed delivery; None when the receiver took it, else why not."""
    try:
        resp = await client.post(url, content=body, headers=headers, timeout=TIMEOUT_S)
    except BlockedUrl as exc:
        return f"blocked: {exc}"[:500]
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if resp.status_code >= 300:
        return f"HTTP {resp.status_code}: {resp.text[:200]}"
    return None


async def _record(conn: Any, note: Any, error: str | None) -> None:
    attempts = note["attempts"] + 1
    if error is None:
        await conn.execute(
            "UPDATE notifications SET status = 'sent', attempts = $2, sent_at = now(), "
            "last_error = NULL WHERE id = $1",
            note["id"],
            attempts,
        )
        return
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    log.warning("webhook delivery %s failed (attempt %d): %s", note["id"], attempts, error)
    await conn.execute(
        "UPDATE notifications SET status = $2, attempts = $3, last_error = $4, "
        "next_attempt_at = now() + make_interval(secs => $5) WHERE id = $1",
        note["id"],
        status,
        attempts,
        error,
        backoff_s(attempts),
    )


Deliver = Callable[[Pool, httpx.AsyncClient], Awaitable[int]]


async def run_notifier(
    pool: Pool,
    stop: asyncio.Event,
    policy: WebhookPolicy,
    poll_s: float = 1.0,
    deliver: Deliver | None = None,
) -> None:
    """Deliver notifications until stop is set, each connection checked by `policy`
    (`deliver`: another outbox's delivery, e.g. billing's invoice events; alert notifications
    by default)."""
    send = deliver or deliver_due
    async with guarded_client(policy) as client:
        while not stop.is_set():
            try:
                while await send(pool, client):
                    pass
            except Exception:
                log.exception("notifier pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_s)
