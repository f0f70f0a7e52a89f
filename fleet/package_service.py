"""Package use cases: upload (size-limited, hashed, signed, stored content-addressed), chunks."""

from __future__ import annotations

import math
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet import package_repository as repo
from fleet.service import Conflict, NotFound
from fleet.signing import sha256_hex, sign
from registry import service as registry
from servitize.db import Pool, transaction

_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.+-]{0,31}$")


def package_id(device_type_id: str, version: str) -> str:
    """The id of a type's package of one version."""
    return re.sub(r"[^a-z0-9_.-]", "-", f"{device_type_id}-{version}".lower())[:63]


def chunk_count(size: int, chunk_bytes: int) -> int:
    """How many chunks a package of this size is sent in."""
    return math.ceil(size / chunk_bytes)


async def upload(
    pool: Pool, device_type_id: str, version: str, content: bytes, *, key: Ed25519PrivateKey,
    max_bytes: int, actor: str, from_versions: list[str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Store a package; ValueError for bad input, Conflict when that version exists."""
    if not content:
        raise ValueError("the package is empty")
    if len(content) > max_bytes:
        raise ValueError(f"the package is {len(content)} bytes, over the {max_bytes} limit")
    if not _VERSION.match(version):
        raise ValueError(f"invalid version {version!r}")
    async with pool.acquire() as conn:
        if device_type_id not in await registry.reporting_intervals(conn):
            raise NotFound(f"device type {device_type_id} not found")
    digest, pid = sha256_hex(content), package_id(device_type_id, version)
    values = {
        "id": pid, "device_type_id": device_type_id,
        "version": version, "size": len(content), "sha256": digest,
        "signature": sign(key, digest), "from_versions": from_versions or [], "created_by": actor,
    }  # fmt: skip
    async with transaction(pool) as conn:
        if await repo.get(conn, pid) is not None:
            raise Conflict(f"package {pid} already exists")
        await repo.put_blob(conn, digest, content)
        return dict(await repo.insert(conn, values))


async def get(pool: Pool, package_id: str) -> dict[str, Any]:
    """One package record."""
    async with pool.acquire() as conn:
        row = await repo.get(conn, package_id)
    if row is None:
        raise NotFound(f"package {package_id} not found")
    return dict(row)


async def list_packages(pool: Pool, device_type_id: str | None = None) -> list[dict[str, Any]]:
    """Packages, newest first."""
    async with pool.acquire() as conn:
        return [dict(r) for r in await repo.list_all(conn, device_type_id)]


async def chunk(pool: Pool, package: dict[str, Any], n: int, chunk_bytes: int) -> bytes:
    """Chunk n (0-based) of a package; ValueError when out of range."""
    if not 0 <= n < chunk_count(package["size"], chunk_bytes):
        raise ValueError(f"chunk {n} out of range")
    async with pool.acquire() as conn:
        data = await repo.chunk(conn, package["sha256"], n * chunk_bytes, chunk_bytes)
    if data is None:
        raise NotFound(f"content of package {package['id']} is missing")
    return data
