"""The device side of fleet: answer commands (idempotently by command id), apply twin settings.

`DeviceAgent.handle` takes one downlink message and returns the messages the device sends
back; `DeviceClient` carries them over its MQTT connection. MQTT 5 properties are used when
present (Response Topic, Correlation Data); a 3.1.1 device works from the topic alone.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fleet.signing import load_public
from fleet.topics import command_id_of, device_subscriptions, reply_topic
from simulators.ota_agent import Ota

# Commands every simulated type understands; anything else is REJECTED.
KNOWN_COMMANDS = frozenset(
    {"ping", "set_valve", "open_valve", "close_valve", "dock", "patrol", "firmware_update"}
)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the device publishes."""

    topic: str
    payload: bytes
    correlation: bytes | None = None
    retain: bool = False


@dataclass
class DeviceAgent:
    """One simulated device's command and twin state."""

    device_id: str
    firmware_version: str = "1.0.0"
    settings: dict[str, Any] = field(default_factory=dict)
    executed: dict[str, dict[str, Any]] = field(default_factory=dict)
    executions: int = 0
    twin_version: int = 0
    public_key: Ed25519PublicKey | None = None
    fails_install: bool = False
    reboot_s: float = 1.0
    cut_download_after: int | None = None
    # Lose the replies to this many command messages (a flaky uplink: the service resends).
    drop_replies: int = 0
    ota: Ota = field(init=False)

    def __post_init__(self) -> None:
        self.ota = Ota(self.device_id, self.firmware_version, self.public_key, self.fails_install,
                       cut_after=self.cut_download_after)  # fmt: skip

    @property
    def version(self) -> str:
        """The firmware version running now."""
        return self.ota.version

    def take_reboot(self) -> bool:
        """Whether the device should go offline now (a reboot, or a cut mid-download)."""
        wanted, self.ota.reboot_requested = self.ota.reboot_requested, False
        return wanted

    def on_connect(self) -> list[Outgoing]:
        """What the device says after (re)connecting: update outcome, resumed download, twin."""
        outs = [_out(t, b, None) for t, b in self.ota.resume()]
        reported = {**self.settings, "firmware_version": self.version}
        body = {"version": self.twin_version, "reported": reported}
        return [*outs, _out(f"devices/{self.device_id}/twin/reported", body, None)]

    def subscriptions(self) -> list[str]:
        """Topic filters the device listens on."""
        return device_subscriptions(self.device_id)

    @property
    def reporting_interval_s(self) -> float | None:
        """The reporting interval set through the twin, if any."""
        value = self.settings.get("reporting_interval_s")
        return float(value) if isinstance(value, int | float) and value > 0 else None

    def handle(
        self, topic: str, payload: bytes, response_topic: str | None = None,
        correlation: bytes | None = None, now: datetime | None = None,
    ) -> list[Outgoing]:  # fmt: skip
        """React to one downlink message."""
        now = now or datetime.now(UTC)
        if topic == f"devices/{self.device_id}/twin/delta":
            return self._twin(payload)
        if topic == f"devices/{self.device_id}/ota/chunk":
            try:
                return [_out(t, b, None) for t, b in self.ota.chunk(payload)]
            except (ValueError, KeyError, TypeError):
                return []
        try:
            _, command_id = command_id_of(topic)
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            return []
        reply_to = response_topic or reply_topic(self.device_id, command_id)
        return self._command(command_id, body, reply_to, correlation, now)

    def _command(
        self, command_id: str, body: dict[str, Any], reply_to: str, corr: bytes | None,
        now: datetime,
    ) -> list[Outgoing]:  # fmt: skip
        expires = body.get("expires_at")
        if expires and datetime.fromisoformat(expires) <= now and command_id not in self.executed:
            return []  # a stale command is never run, nor acknowledged
        receipt = _out(reply_to, {"command_id": command_id, "kind": "received"}, corr)
        extra: list[Outgoing] = []
        if command_id not in self.executed:
            name, params = str(body.get("name")), body.get("params") or {}
            self.executed[command_id] = self._run(name, params)
            if name == "firmware_update" and self.executed[command_id]["status"] == "succeeded":
                extra = [_out(t, b, None) for t, b in self.ota.start(params)]
        result = {"command_id": command_id, "kind": "result", **self.executed[command_id]}
        if self.drop_replies > 0:
            self.drop_replies -= 1
            return extra
        return [receipt, _out(reply_to, result, corr), *extra]

    def _run(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        if name not in KNOWN_COMMANDS:
            return {"status": "rejected", "reason": f"unknown command {name!r}"}
        self.executions += 1
        if params.get("fail"):
            return {"status": "failed", "reason": str(params["fail"])}
        return {"status": "succeeded", "output": {"done": name, "params": params}}

    def _twin(self, payload: bytes) -> list[Outgoing]:
        try:
            body = json.loads(payload)
            version, delta = int(body["version"]), dict(body["delta"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return []
        if version <= self.twin_version and not delta:
            return []
        self.settings |= delta
        self.twin_version = max(version, self.twin_version)
        reported = {**self.settings, "firmware_version": self.version}
        body = {"version": self.twin_version, "reported": reported}
        return [_out(f"devices/{self.device_id}/twin/reported", body, None)]


def agent_factory(
    public_pem: bytes | None = None, fail_share: float = 0.0, seed: int = 1
) -> Callable[[str], DeviceAgent]:
    """Agents for a simulated fleet: each holds the provider's public key; a fixed share of
    devices (chosen by device id and seed, so the same devices every run) fails its install."""
    if not 0.0 <= fail_share <= 1.0:
        raise ValueError("fail_share is a fraction 0..1")
    public = load_public(public_pem) if public_pem else None

    def make(device_id: str) -> DeviceAgent:
        draw = random.Random(f"{seed}:{device_id}:install").random()
        return DeviceAgent(device_id, public_key=public, fails_install=draw < fail_share)

    return make


def _out(topic: str, body: dict[str, Any], corr: bytes | None) -> Outgoing:
    return Outgoing(topic, json.dumps(body, separators=(",", ":")).encode(), corr)
