"""Webhooks to a real HTTP receiver on 127.0.0.1 that checks the HMAC signature."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from analytics.alerts import notify, service
from servitize.db import Pool
from servitize.infra import free_port
from tests.integration.test_analytics_support import PUMP, T0, clear, finding, seed

SECRET = "whsec-0123456789abcdef"


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


async def _deliver(pool: Pool, rounds: int = 1) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(rounds):
            await notify.deliver_due(pool, client)


async def test_open_escalate_clear_are_signed_and_received(pool: Pool, receiver: Receiver) -> None:
    await seed(pool)
    await service.set_webhook(pool, "acme", {"url": receiver.url, "secret": SECRET})
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
    await service.set_webhook(pool, "acme", {"url": receiver.url, "secret": SECRET})
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
    await service.set_webhook(pool, "acme", {"url": url, "secret": SECRET})
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
        pool, "acme", {"url": receiver.url, "secret": SECRET, "format": "dingtalk"}
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
