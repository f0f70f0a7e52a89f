"""Fleet topics: what the service sends a device and where the device answers.

Downlink (service -> device), readable by the device only below its own id:
    devices/{id}/commands/{command_id}   a command (QoS 1)
    devices/{id}/twin/delta              desired settings not yet reported (QoS 1, retained)
    devices/{id}/ota/chunk               a requested package chunk (QoS 1)
Uplink (device -> service), in the device's own subtree:
    devices/{id}/replies/{command_id}    receipt and result of a command
    devices/{id}/twin/reported           what the device applied
    devices/{id}/ota/request             "send me chunk n of package p"
    devices/{id}/ota/state               update progress, failure, version after reboot
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_COMMAND_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Uplink(StrEnum):
    """What a device sends the fleet service."""

    REPLY = "replies"
    TWIN_REPORTED = "twin/reported"
    OTA_REQUEST = "ota/request"
    OTA_STATE = "ota/state"
    STATUS = "status"


def command_topic(device_id: str, command_id: str) -> str:
    """Where a command goes."""
    return f"devices/{device_id}/commands/{command_id}"


def reply_topic(device_id: str, command_id: str) -> str:
    """Where the device answers a command (also the MQTT 5 Response Topic)."""
    return f"devices/{device_id}/replies/{command_id}"


def delta_topic(device_id: str) -> str:
    """The retained twin delta of a device."""
    return f"devices/{device_id}/twin/delta"


def chunk_topic(device_id: str) -> str:
    """Where requested package chunks go."""
    return f"devices/{device_id}/ota/chunk"


def device_subscriptions(device_id: str) -> list[str]:
    """Topic filters a device subscribes to."""
    base = f"devices/{device_id}"
    return [f"{base}/commands/+", f"{base}/twin/delta", f"{base}/ota/chunk"]


SERVICE_SUBSCRIPTIONS = (
    "devices/+/replies/+",
    "devices/+/twin/reported",
    "devices/+/ota/request",
    "devices/+/ota/state",
    "devices/+/status",
)


@dataclass(frozen=True, slots=True)
class UplinkTopic:
    """A parsed uplink topic: device, kind and (for replies) the command id."""

    device_id: str
    kind: Uplink
    command_id: str | None = None

    @classmethod
    def parse(cls, topic: str) -> UplinkTopic:
        """ValueError when the topic is not a fleet uplink."""
        parts = topic.split("/")
        if len(parts) < 3 or parts[0] != "devices" or not _DEVICE_ID.match(parts[1]):
            raise ValueError(f"not a device topic: {topic!r}")
        if len(parts) == 4 and parts[2] == "replies":
            if not _COMMAND_ID.match(parts[3]):
                raise ValueError(f"invalid command id in {topic!r}")
            return cls(parts[1], Uplink.REPLY, parts[3])
        try:
            return cls(parts[1], Uplink("/".join(parts[2:])))
        except ValueError:
            raise ValueError(f"not a fleet uplink: {topic!r}") from None


def command_id_of(topic: str) -> tuple[str, str]:
    """(device id, command id) of a downlink command topic; ValueError otherwise."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != "devices" or parts[2] != "commands":
        raise ValueError(f"not a command topic: {topic!r}")
    if not _COMMAND_ID.match(parts[3]):
        raise ValueError(f"invalid command id in {topic!r}")
    return parts[1], parts[3]
