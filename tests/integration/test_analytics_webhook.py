"""Webhooks to a real HTTP receiver on 127.0.0.1 that checks the HMAC signature."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from analytics.alerts import notify, service
from analytics.alerts.webhook_guard import BlockedUrl, WebhookPolicy, guarded_client
from servitize.db import Pool
from servitize.infra import free_port
from tests.integration.test_analytics_support import PUMP, T0, clear, finding, seed

SECRET = "whsec-0123456789abcdef"
# The receivers here are on loopback, which only an explicit allow-list lets a webhook reach.
LOCAL = service.webhook_policy("127.0.0.1/32")


@dataclass
class Receiver:
    url: str
    got: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    rec = Receiver(f"http://127.0.0.1:{port}/hook")

    async def hook(request: Request) -> JSONResponse:
        body = await request.body()
        ok = notify.verify(SECRET, body, request.headers.get("x-servitize-signature", ""))
        if rec.fail_next > 0:
            rec.fail_next -= 1
            return JSONResponse({"error": "try later"}, status_code=503)
        rec.got.append(
            {
                "ok": ok,
                "body": json.loads(body),
                "query": dict(request.query_params),
                "event": request.headers.get("x-servitize-event"),
            }
        )
        return JSONResponse({"ok": ok}, status_code=200 if ok else 401)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.02)
    yield rec
    server.should_exit = True
    await task


async def _note(conn: Any) -> Any:
    row = await conn.fetchrow("SELECT * FROM notifications")
    assert row is not None
    return row


async def _deliver(pool: Pool, rounds: int = 1, policy: WebhookPolicy = LOCAL) -> None:
    async with guarded_client(policy) as client:
        for _ in range(rounds):
            await notify.deliver_due(pool, client)


async def test_open_escalate_clear_are_signed_and_received(pool: Pool, receiver: Receiver) -> None:
    await seed(pool)
    await service.set_webhook(pool, "acme", {"url": receiver.url, "secret": SECRET}, LOCAL)
    await service.apply_findings(pool, [(PUMP, finding(severity="warning"))], "d")
    await service.apply_findings(pool, [(PUMP, finding(first=T0 + 5, severity="critical"))], "d")
    await service.apply_findings(pool, [(PUMP, clear())], "d")
    await _deliver(pool)
    assert [g["event"] for g in receiver.got] == ["open", "escalate", "clear"]
    assert all(g["ok"] for g in receiver.got)
    opened = receiver.got[0]["body"]["alert"]
    assert opened["device_id"] == "pump-1" and opened["severity"] == "warning"
    assert receiver.got[1]["body"]["alert"]["severity"] == "critical"


async def test_failures_are_retried_with_backoff_and_recorded(
    pool: Pool, receiver: Receiver
) -> None:
    await seed(pool)
    await service.set_webhook(pool, "acme", {"url": receiver.url, "secret": SECRET}, LOCAL)
    receiver.fail_next = 1
    await service.apply_findings(pool, [(PUMP, finding())], "d")
    await _deliver(pool)
    async with pool.acquire() as conn:
        row = await _note(conn)
        assert row["status"] == "pending" and row["attempts"] == 1 and "503" in row["last_error"]
        assert row["next_attempt_at"] > row["created_at"]
        await conn.execute("UPDATE notifications SET next_attempt_at = now()")
    await _deliver(pool)
    async with pool.acquire() as conn:
        row = await _note(conn)
    assert row["status"] == "sent" and row["attempts"] == 2
    assert len(receiver.got) == 1 and receiver.got[0]["ok"]


async def test_unreachable_receiver_fails_after_max_attempts(pool: Pool) -> None:
    await seed(pool)
    url = f"http://127.0.0.1:{free_port()}/nobody"
    await service.set_webhook(pool, "acme", {"url": url, "secret": SECRET}, LOCAL)
    await service.apply_findings(pool, [(PUMP, finding())], "d")
    for _ in range(notify.MAX_ATTEMPTS):
        async with pool.acquire() as conn:
            await conn.execute("UPDATE notifications SET next_attempt_at = now()")
        await _deliver(pool)
    async with pool.acquire() as conn:
        row = await _note(conn)
    assert row["status"] == "failed" and row["attempts"] == notify.MAX_ATTEMPTS
    assert "Connect" in row["last_error"]


async def test_dingtalk_format(pool: Pool, receiver: Receiver) -> None:
    await seed(pool)
    await service.set_webhook(
        pool, "acme", {"url": receiver.url, "secret": SECRET, "format": "dingtalk"}, LOCAL
    )
    await service.apply_findings(pool, [(PUMP, finding())], "d")
    await _deliver(pool)
    got = receiver.got[0]
    assert got["ok"] and got["body"]["msgtype"] == "markdown"
    assert "bearing_temp_c" in got["body"]["markdown"]["text"]
    assert {"timestamp", "sign"} <= got["query"].keys()


def test_backoff_grows_and_is_capped() -> None:
    delays = [notify.backoff_s(i) for i in range(1, 12)]
    assert delays[:3] == [2.0, 4.0, 8.0] and max(delays) == notify.BACKOFF_MAX_S


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/internal",
        "http://localhost/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://100.100.100.200/x",
        "http://0.0.0.0/x",
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
    ],
)
async def test_non_public_or_non_http_urls_are_refused_at_save(pool: Pool, url: str) -> None:
    await seed(pool)
    with pytest.raises(BlockedUrl):
        await service.set_webhook(pool, "acme", {"url": url, "secret": SECRET})


async def test_loopback_receiver_is_not_posted_to_unless_allow_listed(
    pool: Pool, receiver: Receiver
) -> None:
    await seed(pool)
    with pytest.raises(BlockedUrl, match=r"127\.0\.0\.1"):
        await service.set_webhook(pool, "acme", {"url": receiver.url, "secret": SECRET})
    # saved while allow-listed (or while the name pointed elsewhere), then sent without it
    await service.set_webhook(pool, "acme", {"url": receiver.url, "secret": SECRET}, LOCAL)
    await service.apply_findings(pool, [(PUMP, finding())], "d")
    await _deliver(pool, policy=service.webhook_policy(""))
    assert receiver.got == []
    async with pool.acquire() as conn:
        row = await _note(conn)
    assert row["status"] == "pending" and "blocked" in row["last_error"]
    async with pool.acquire() as conn:
        await conn.execute("UPDATE notifications SET next_attempt_at = now()")
    await _deliver(pool)
    assert len(receiver.got) == 1 and receiver.got[0]["ok"]


async def test_a_name_is_checked_again_at_send_time(pool: Pool, receiver: Receiver) -> None:
    """A name allowed by name at save time but resolving to loopback is refused when the
    policy at send time does not list it: the check runs on every connection."""
    await seed(pool)
    url = receiver.url.replace("127.0.0.1", "localhost")
    by_name = service.webhook_policy("localhost")
    await service.set_webhook(pool, "acme", {"url": url, "secret": SECRET}, by_name)
    await service.apply_findings(pool, [(PUMP, finding())], "d")
    await _deliver(pool, policy=service.webhook_policy("10.0.0.0/8"))
    assert receiver.got == []
    async with pool.acquire() as conn:
        await conn.execute("UPDATE notifications SET next_attempt_at = now()")
    await _deliver(pool, policy=by_name)
    assert len(receiver.got) == 1


def test_policy_parses_hosts_and_networks() -> None:
    policy = service.webhook_policy(" hooks.plant.lan , 10.20.0.0/16,")
    assert policy.hosts == frozenset({"hooks.plant.lan"}) and len(policy.networks) == 1
    ip = ipaddress.ip_address
    assert policy.allows("x", ip("10.20.3.4")) and not policy.allows("x", ip("10.21.0.1"))
    assert policy.allows("HOOKS.plant.lan", ip("192.168.1.1"))
    assert policy.allows("x", ip("93.184.215.14"))
