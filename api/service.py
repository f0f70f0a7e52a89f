"""API key use cases: create (secret shown once), authenticate, list, revoke."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import asyncpg

from api import repository
from api.models import ApiKey, Principal, Role, check_role
from servitize.db import Pool, transaction
from servitize.errors import Invalid

PREFIX = "svz"
# Writing last_used_at on every request would turn every read into a write; a minute's
# resolution is enough to tell a live key from a forgotten one.
TOUCH_EVERY_S = 60


class UnknownTenant(Invalid):
    """A key was requested for a tenant that does not exist."""


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_key(token: str) -> tuple[str, str] | None:
    """Split `svz_<id>_<secret>` into id and secret; None if it has another shape."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or len(secret) < 20:
        return None
    return key_id, secret


async def create_key(
    pool: Pool, role: Role | str, tenant_id: str | None = None, name: str = ""
) -> tuple[ApiKey, str]:
    """Create a key; returns it and the full bearer token (shown once, never stored)."""
    role = check_role(role)
    key_id = secrets.token_hex(6)
    # 32 random bytes (256 bits) make the secret unguessable, so SHA-256 suffices.
    secret = secrets.token_urlsafe(32)
    try:
        async with transaction(pool) as conn:
            key = await repository.insert_key(conn, key_id, role, tenant_id, name, _hash(secret))
    except asyncpg.ForeignKeyViolationError as exc:
        raise UnknownTenant(f"tenant {tenant_id} does not exist") from exc
    return key, f"{PREFIX}_{key_id}_{secret}"


async def authenticate(pool: Pool, token: str) -> Principal | None:
    """The principal of a valid, unrevoked key; None otherwise."""
    parts = parse_key(token)
    if parts is None:
        return None
    key_id, secret = parts
    async with pool.acquire() as conn:
        found = await repository.active_key(conn, key_id)
        if found is None or not hmac.compare_digest(found[1], _hash(secret)):
            return None
        key = found[0]
        stale = datetime.now(UTC) - timedelta(seconds=TOUCH_EVERY_S)
        if key.last_used_at is None or key.last_used_at < stale:
            await repository.touch(conn, key_id, TOUCH_EVERY_S)
    return Principal(key.id, key.role, key.tenant_id)


async def list_keys(pool: Pool, tenant_id: str | None = None) -> list[ApiKey]:
    """Keys, newest first (only one tenant's if given)."""
    async with pool.acquire() as conn:
        return await repository.list_keys(conn, tenant_id)


async def revoke_key(pool: Pool, key_id: str) -> bool:
    """Revoke a key; False if it does not exist or is already revoked."""
    async with transaction(pool) as conn:
        return await repository.revoke(conn, key_id)
