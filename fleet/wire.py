"""JSON payloads on fleet topics (the contract in docs/mqtt.md), encoded and parsed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fleet.models import Command, Reply
from fleet.states import CommandState
from fleet.topics import reply_topic

MAX_REPLY_BYTES = 64 * 1024


def command_payload(cmd: Command, now: datetime) -> bytes:
    """The downlink message of a command."""
    body: dict[str, Any] = {
        "command_id": cmd.id,
        "name": cmd.name,
        "params": cmd.params,
        "issued_at": now.isoformat(),
        "expires_at": cmd.expires_at.isoformat() if cmd.expires_at else None,
        "attempt": cmd.attempts + 1,
        "reply_to": reply_topic(cmd.device_id, cmd.id),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def expiry_interval_s(cmd: Command, now: datetime) -> int | None:
    """MQTT 5 Message Expiry Interval: whole seconds left, rounded down (None: no expiry)."""
    if cmd.expires_at is None:
        return None
    return max(int((cmd.expires_at - now).total_seconds()), 0)


def loads_object(payload: bytes, limit: int = MAX_REPLY_BYTES) -> dict[str, Any]:
    """A JSON object from a payload; ValueError with a one-line reason otherwise."""
    if len(payload) > limit:
        raise ValueError(f"payload over {limit} bytes")
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ValueError("payload is not a JSON object")
    return body


def parse_reply(command_id: str, payload: bytes) -> Reply:
    """A device's reply; the topic's command id wins, a different one in the body is refused."""
    body = loads_object(payload)
    if body.get("command_id", command_id) != command_id:
        raise ValueError("command_id in the body differs from the topic")
    status = body.get("status")
    output = body.get("output") or {}
    if not isinstance(output, dict):
        raise ValueError("output must be an object")
    reason = body.get("reason")
    return Reply(
        command_id,
        str(body.get("kind", "result" if status else "received")),
        CommandState(str(status).upper()) if status else None,
        output,
        str(reason)[:500] if reason is not None else None,
    )
