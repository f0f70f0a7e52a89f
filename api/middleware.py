"""ASGI middleware: a request body size limit (413) and per-route request counting."""

from __future__ import annotations

import json
from typing import Any

from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MEDIA_TYPE


async def _problem(send: Send, status: int, title: str, detail: str, path: str) -> None:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    raw = json.dumps(body | {"instance": path}).encode()
    headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413 before any route reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await _problem(send, 400, "Bad Request", "bad Content-Length", scope["path"])
            if int(declared) > self.max_bytes:
                return await self._refuse(send, scope)
            return await self.app(scope, receive, send)
        if headers.get(b"transfer-encoding") is None:
            return await self.app(scope, receive, send)
        # Chunked body of unknown size: buffer at most max_bytes, then replay it.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            size, more = size + len(chunks[-1]), message.get("more_body", False)
            if size > self.max_bytes:
                return await self._refuse(send, scope)
        return await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, send: Send, scope: Scope) -> None:
        detail = f"request body over {self.max_bytes} bytes"
        await _problem(send, 413, "Content Too Large", detail, scope["path"])


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class CountRequests:
    """Count requests by method, route template (looked up by endpoint) and status code."""

    def __init__(self, app: ASGIApp, counter: Counter, templates: dict[Any, str]) -> None:
        self.app, self.counter, self.templates = app, counter, templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = self.templates.get(scope.get("endpoint"), "unmatched")
            self.counter.labels(scope["method"], route, str(status)).inc()


class FinishStreams:
    """End a streamed response the app left open with its last, empty chunk.

    sse-starlette cuts its event streams when the server stops without sending the final
    chunk; completing them here gives clients a clean end of stream and keeps uvicorn from
    logging "ASGI callable returned without completing response" on every stop.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = {"started": False, "finished": False}

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                state["finished"] = True
            await send(message)

        await self.app(scope, receive, tracked)
        if state["started"] and not state["finished"]:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
