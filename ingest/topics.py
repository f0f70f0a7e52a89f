"""Device topics as a small self-checking value object."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Channel(StrEnum):
    """What a device publishes on."""

    TELEMETRY = "telemetry"
    EVENTS = "events"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """`devices/{device_id}/{channel}`."""

    device_id: str
    channel: Channel

    def __post_init__(self) -> None:
        if not _DEVICE_ID.match(self.device_id):
            raise ValueError(f"invalid device id in topic: {self.device_id!r}")

    @classmethod
    def parse(cls, topic: str) -> DeviceTopic:
        """Parse a topic string; ValueError when it is not a device topic."""
        parts = topic.split("/")
        if len(parts) != 3 or parts[0] != "devices":
            raise ValueError(f"not a device topic: {topic!r}")
        try:
            channel = Channel(parts[2])
        except ValueError:
            raise ValueError(f"unknown channel in topic: {topic!r}") from None
        return cls(parts[1], channel)

    def __str__(self) -> str:
        return f"devices/{self.device_id}/{self.channel.value}"


def subscriptions(group: str) -> list[str]:
    """Topic filters ingest subscribes to; a group name shares the load across processes."""
    shared = f"$share/{group}/" if group else ""
    # Status is retained and must reach every instance: retained messages are never
    # delivered to shared subscriptions (MQTT 5 spec 4.8.2), so it is not shared.
    return [
        f"{shared}devices/+/telemetry",
        f"{shared}devices/+/events",
        "devices/+/status",
    ]
