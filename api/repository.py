"""API key SQL. Repositories never commit: the caller's transaction does."""

from __future__ import annotations

from api.models import ApiKey
from servitize.db import Connection

_COLUMNS = "id, role, tenant_id, name, created_at, revoked_at, last_used_at"


async def insert_key(
    conn: Connection, key_id: str, role: str, tenant_id: str | None, name: str, secret_hash: bytes
) -> ApiKey:
    """Store a new key."""
    row = await conn.fetchrow(
        f"""INSERT INTO api_keys (id, role, tenant_id, name, secret_hash)
            VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}""",
        key_id,
        role,
        tenant_id,
        name,
        secret_hash,
    )
    assert row is not None
    return ApiKey(**dict(row))


async def active_key(conn: Connection, key_id: str) -> tuple[ApiKey, bytes] | None:
    """A key that is not revoked, with its secret hash."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS}, secret_hash FROM api_keys WHERE id = $1 AND revoked_at IS NULL",
        key_id,
    )
    if row is None:
        return None
    data = dict(row)
    secret_hash: bytes = data.pop("secret_hash")
    return ApiKey(**data), secret_hash


async def touch(conn: Connection, key_id: str, every_s: int) -> None:
    """Record use, at most once per `every_s` seconds so reads do not all become writes."""
    await conn.execute(
        """UPDATE api_keys SET last_used_at = now() WHERE id = $1
           AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))""",
        key_id,
        every_s,
    )


async def list_keys(conn: Connection, tenant_id: str | None = None) -> list[ApiKey]:
    """Every key (of one tenant, if given), newest first."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM api_keys WHERE $1::text IS NULL OR tenant_id = $1
            ORDER BY created_at DESC, id""",
        tenant_id,
    )
    return [ApiKey(**dict(r)) for r in rows]


async def revoke(conn: Connection, key_id: str) -> bool:
    """Revoke a key; False if no such active key."""
    status = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", key_id
    )
    return status.endswith(" 1")
