"""A simulated device's firmware update: chunked download with resume, hash and signature
check with the provider's public key, install, reboot, and a configurable failure share that
rolls back to the old version."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fleet.signing import verify

Message = tuple[str, dict[str, Any]]


@dataclass
class Download:
    """One package being fetched."""

    campaign_id: str
    version: str
    sha256: str
    signature: str
    chunks: int
    received: dict[int, bytes] = field(default_factory=dict)

    def first_missing(self) -> int | None:
        """The chunk to ask for next (None: complete)."""
        return next((n for n in range(self.chunks) if n not in self.received), None)


@dataclass
class Ota:
    """Firmware state of one device: its version, a download, an install awaiting reboot."""

    device_id: str
    version: str
    public_key: Ed25519PublicKey | None
    fails: bool = False
    download: Download | None = None
    installing: Download | None = None
    reboot_requested: bool = False
    # Lose the connection once after this many chunks (a download resumed after a disconnect).
    cut_after: int | None = None

    def start(self, params: dict[str, Any]) -> list[Message]:
        """A `firmware_update` command arrived: start fetching chunk 0."""
        d = Download(str(params["campaign_id"]), str(params["version"]), str(params["sha256"]),
                     str(params["signature"]), int(params["chunks"]))  # fmt: skip
        self.download = d
        return [self._state(d, "DOWNLOADING", progress=0.0), self._request(d, 0)]

    def resume(self) -> list[Message]:
        """After a (re)connect: finish a reboot, or ask again for the first missing chunk."""
        if self.installing is not None:
            return self._booted(self.installing)
        d = self.download
        missing = d.first_missing() if d is not None else None
        return [] if d is None or missing is None else [self._request(d, missing)]

    def chunk(self, payload: bytes) -> list[Message]:
        """A requested chunk arrived: store it, ask for the next, or verify when complete."""
        body = json.loads(payload)
        d = self.download
        if d is None or body.get("campaign_id") != d.campaign_id:
            return []
        d.received[int(body["n"])] = base64.b64decode(body["data"])
        missing = d.first_missing()
        if missing is not None and len(d.received) == self.cut_after:
            self.cut_after, self.reboot_requested = None, True  # drop off mid-download
            return []
        if missing is not None:
            return [self._state(d, "DOWNLOADING", progress=len(d.received) / d.chunks),
                    self._request(d, missing)]  # fmt: skip
        return self._verify(d)

    def _verify(self, d: Download) -> list[Message]:
        self.download = None
        content = b"".join(d.received[n] for n in range(d.chunks))
        if self.public_key is None:
            return [self._state(d, "FAILED", reason="no public key on the device")]
        problem = verify(self.public_key, content, d.sha256, d.signature)
        if problem is not None:  # a tampered package is refused and reported
            return [self._state(d, "FAILED", reason=f"package refused: {problem}")]
        self.installing, self.reboot_requested = d, True
        return [self._state(d, s) for s in ("DOWNLOADED", "VERIFIED", "INSTALLING", "REBOOTING")]

    def _booted(self, d: Download) -> list[Message]:
        self.installing = None
        if self.fails:
            why = "install failed (power lost); rolled back"
            return [self._state(d, "ROLLED_BACK", reason=why, version=self.version)]
        self.version = d.version
        return [self._state(d, "UPDATED", version=self.version)]

    def _state(self, d: Download, state: str, **extra: Any) -> Message:
        body = {"campaign_id": d.campaign_id, "state": state, **extra}
        return f"devices/{self.device_id}/ota/state", body

    def _request(self, d: Download, n: int) -> Message:
        return f"devices/{self.device_id}/ota/request", {"campaign_id": d.campaign_id, "n": n}
