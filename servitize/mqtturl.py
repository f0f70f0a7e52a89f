"""MQTT broker address as a small self-checking value object."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlparse


@dataclass(frozen=True, slots=True)
class MqttUrl:
    """Where a broker listens and whom to log in as: mqtt://user:pass@host:port."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("MQTT URL needs a host")
        if not 0 < self.port < 65536:
            raise ValueError(f"MQTT port out of range: {self.port}")

    @classmethod
    def parse(cls, url: str) -> MqttUrl:
        """Parse mqtt://[user[:pass]@]host[:port]."""
        parts = urlparse(url)
        if parts.scheme not in ("mqtt", "tcp"):
            raise ValueError(f"MQTT URL must start with mqtt://, got {url!r}")
        return cls(
            host=parts.hostname or "",
            port=parts.port or 1883,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def with_credentials(self, username: str, password: str | None) -> MqttUrl:
        """The same broker, logged in as someone else."""
        return MqttUrl(self.host, self.port, username, password)

    def __str__(self) -> str:
        auth = f"{self.username}@" if self.username else ""
        return f"mqtt://{auth}{self.host}:{self.port}"
