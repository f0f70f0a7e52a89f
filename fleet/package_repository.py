"""SQL of package contents (content-addressed) and package records (never commits)."""

from __future__ import annotations

from typing import Any

from servitize.db import Connection

_COLUMNS = (
    "id, device_type_id, version, size, sha256, signature, from_versions, created_by, created_at"
)


async def put_blob(conn: Connection, sha256: str, content: bytes) -> None:
    """Store content under its hash; the same bytes are stored once."""
    await conn.execute(
        """INSERT INTO fleet_blobs (sha256, size, content) VALUES ($1, $2, $3)
           ON CONFLICT (sha256) DO NOTHING""",
        sha256, len(content), content,
    )  # fmt: skip


async def insert(conn: Connection, values: dict[str, Any]) -> Any:
    """A new package record."""
    return await conn.fetchrow(
        f"""INSERT INTO fleet_packages (id, device_type_id, version, size, sha256, signature,
                                        from_versions, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {_COLUMNS}""",
        *(values[k] for k in ("id", "device_type_id", "version", "size", "sha256",
                              "signature", "from_versions", "created_by")),
    )  # fmt: skip


async def get(conn: Connection, package_id: str) -> Any:
    """One package record (without its content)."""
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM fleet_packages WHERE id = $1", package_id)


async def list_all(conn: Connection, device_type_id: str | None) -> list[Any]:
    """Packages, newest first."""
    return await conn.fetch(
        f"""SELECT {_COLUMNS} FROM fleet_packages
            WHERE $1::text IS NULL OR device_type_id = $1 ORDER BY created_at DESC, id""",
        device_type_id,
    )


async def chunk(conn: Connection, sha256: str, offset: int, length: int) -> bytes | None:
    """Bytes [offset, offset + length) of a stored content."""
    value: bytes | None = await conn.fetchval(
        "SELECT substring(content FROM $2 FOR $3) FROM fleet_blobs WHERE sha256 = $1",
        sha256, offset + 1, length,
    )  # fmt: skip
    return value
