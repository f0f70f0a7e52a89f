"""Ingest's broker session: reconnect pacing, and whether a shared group is safe on this broker."""

from __future__ import annotations

from servitize.db import ConfigError
from servitize.mqtturl import MqttUrl

# Mosquitto publishes its name and version here (retained) to whoever may read it.
VERSION_TOPIC = "$SYS/broker/version"
# How long to wait for that answer before assuming another broker.
VERSION_WAIT_S = 2.0


class Backoff:
    """Reconnect at once after losing the broker, then wait longer while it stays away."""

    def __init__(self, first_s: float = 0.25, max_s: float = 5.0) -> None:
        self.first_s, self.max_s = first_s, max_s
        self.failures = 0

    def next_delay(self) -> float:
        """The pause before the next attempt: 0, then first_s doubling up to max_s."""
        self.failures += 1
        if self.failures == 1:
            return 0.0
        return float(min(self.first_s * 2 ** (self.failures - 2), self.max_s))

    def reset(self) -> None:
        """A connection succeeded (connected and subscribed): the next loss retries at once."""
        self.failures = 0


class UnsafeBrokerError(Exception):
    """The broker would lose acknowledged messages with this configuration."""


def shared_group_risk(group: str, broker_version: str | None) -> str | None:
    """Why a $share group on this broker can lose messages on a broker restart, or None."""
    if not group:
        return None  # a plain persistent subscription is restored from the broker's file
    if broker_version is None:
        return (
            f"shared group {group!r}: the broker did not say what it is ({VERSION_TOPIC}); "
            "make sure it restores shared subscriptions of persistent sessions after a restart"
        )
    if broker_version.lower().startswith("mosquitto"):
        return (
            f"shared group {group!r} on {broker_version}: Mosquitto does not restore a "
            "persistent session's $share subscription after a restart, so messages published "
            "before ingest re-subscribes are lost. Run one ingest with SERVITIZE_INGEST_GROUP='' "
            "or use a broker whose shared subscriptions survive restarts (docs/ingest.md)"
        )
    return None


def is_mosquitto(broker_version: str | None) -> bool:
    """Whether the broker named itself Mosquitto."""
    return broker_version is not None and broker_version.lower().startswith("mosquitto")


def doctor_check(group: str, allow_mosquitto_share: bool) -> tuple[str, bool, str]:
    """`servitize doctor`'s row: does ingest's subscription survive a broker restart?"""
    if not group:
        return ("ingest group", True, "'' (plain persistent subscription, survives restarts)")
    if allow_mosquitto_share:
        return (
            "ingest group",
            False,
            f"$share group {group!r} allowed on Mosquitto (SERVITIZE_INGEST_ALLOW_MOSQUITTO_SHARE):"
            " a broker restart loses messages published before ingest re-subscribes",
        )
    return (
        "ingest group",
        True,
        f"$share group {group!r}: refused by ingest on Mosquitto; on another broker make sure "
        "shared subscriptions of persistent sessions survive its restart",
    )


def ingest_client_id(configured: str | None, mqtt: MqttUrl) -> str:
    """Ingest's client id: its MQTT username, so only who holds its password owns its session.

    The deployed broker binds client ids to usernames (use_username_as_clientid), so another
    id would be replaced by the username anyway; a mismatch is refused rather than hidden.
    """
    if mqtt.username and configured and configured != mqtt.username:
        raise ConfigError(
            f"SERVITIZE_INGEST_CLIENT_ID {configured!r} must equal the MQTT username "
            f"{mqtt.username!r} (the broker binds client ids to usernames); give each ingest "
            "process its own service user (deploy/README.md)"
        )
    return configured or mqtt.username or "servitize-ingest-1"
