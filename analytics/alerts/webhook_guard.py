"""Where a webhook may post: http(s) to public addresses, or to what the operator allow-listed.

A tenant sets its own webhook URL, so without a check a tenant key could make the notifier
post signed payloads to the provider's own network (loopback, link-local and cloud metadata
addresses, private ranges). Every address a host name resolves to is checked when the webhook
is saved and again on every connection (a DNS answer can change between the two): the
notifier's transport resolves the name itself, checks each address, and connects to the
checked address (TLS still verifies the certificate against the host name).

`SERVITIZE_WEBHOOK_ALLOW` lists on-premise receivers: comma-separated host names (exact,
case-insensitive) and networks in CIDR form, e.g. `hooks.plant.lan,10.20.0.0/16,127.0.0.1/32`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SCHEMES = ("http", "https")


class BlockedUrl(ValueError):
    """A webhook URL (or one of its addresses) the policy refuses."""


def forbidden(ip: IP) -> bool:
    """Loopback, link-local (metadata 169.254.169.254), private, shared, reserved, multicast:
    anything that is not a public unicast address. IPv4-mapped IPv6 is judged as IPv4."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    """Host names and networks a webhook may reach although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> WebhookPolicy:
        """From the setting's text (comma-separated names and CIDR networks)."""
        hosts: set[str] = set()
        networks: list[Network] = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, ip: IP) -> bool:
        """Whether a connection to `ip` (which `host` resolved to) may be made."""
        if host.lower().rstrip(".") in self.hosts:
            return True
        return not forbidden(ip) or any(ip in net for net in self.networks)

    def check(self, host: str, ips: Iterable[IP]) -> None:
        """Raise BlockedUrl unless every address is allowed."""
        for ip in ips:
            if not self.allows(host, ip):
                raise BlockedUrl(
                    f"webhook host {host} resolves to {ip}, a non-public address "
                    "(allow on-premise receivers with SERVITIZE_WEBHOOK_ALLOW)"
                )


async def resolve(host: str, port: int) -> list[IP]:
    """Every address a host name (or literal) stands for."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def split(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; BlockedUrl for another scheme or no host."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise BlockedUrl("webhook url must be http(s):// with a host")
    return parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80)


async def check_url(url: str, policy: WebhookPolicy) -> None:
    """Save-time check. A name that does not resolve now passes (it cannot reach anything
    yet); the notifier checks again on every connection."""
    host, port = split(url)
    try:
        ips = await resolve(host, port)
    except OSError:
        return
    policy.check(host, ips)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, then connects to the checked addresses in order (no
    second lookup)."""

    def __init__(self, policy: WebhookPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            ips = await resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        self._policy.check(host, ips)
        for ip in ips[:-1]:
            try:
                return await self._connect(str(ip), port, timeout, local_address, socket_options)
            except httpcore.ConnectError:
                continue
        return await self._connect(str(ips[-1]), port, timeout, local_address, socket_options)

    async def _connect(
        self,
        ip: str,
        port: int,
        timeout: float | None,  # noqa: ASYNC109 - passed on to httpcore
        local_address: str | None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_tcp(ip, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: object = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedUrl("webhooks do not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_client(policy: WebhookPolicy) -> httpx.AsyncClient:
    """An HTTP client whose every connection goes through the policy (no proxies from the
    environment: a proxy would connect on the client's behalf, unchecked)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(network_backend=GuardedBackend(policy))
    return httpx.AsyncClient(transport=transport, trust_env=False)
