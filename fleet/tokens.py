"""Short-lived download tokens: which device may fetch which campaign's package, until when.

`<base64url payload>.<base64url HMAC-SHA256>`, the payload being `device|campaign|expiry`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make(secret: bytes, device_id: str, campaign_id: str, expires_at: datetime) -> str:
    """A token for one device and campaign, valid until expires_at."""
    payload = f"{device_id}|{campaign_id}|{int(expires_at.timestamp())}".encode()
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def check(secret: bytes, token: str, now: datetime) -> tuple[str, str]:
    """(device id, campaign id) of a valid token; ValueError when forged, garbled or expired."""
    try:
        head, _, tail = token.partition(".")
        payload, mac = _unb64(head), _unb64(tail)
        device_id, campaign_id, expiry = payload.decode().split("|")
        expires = datetime.fromtimestamp(int(expiry), UTC)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("malformed download token") from None
    if not hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()):
        raise ValueError("invalid download token")
    if now >= expires:
        raise ValueError("the download token has expired")
    return device_id, campaign_id


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end] (inclusive) of a single `bytes=` range; None: the whole content.

    ValueError when the range cannot be satisfied (answered 416).
    """
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        raise ValueError("only a single bytes range is supported")
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
    except ValueError:
        raise ValueError(f"bad range {header!r}") from None
    if start < 0 or start > end or start >= size:
        raise ValueError(f"range {header!r} outside 0..{size - 1}")
    return start, end
