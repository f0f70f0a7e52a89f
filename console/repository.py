"""SQL of the console's own tables (console_users, console_sessions); never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from servitize.db import Connection

_USER_COLS = "id, username, display_name, role, tenant_id, disabled, created_at"
_U_COLS = ", ".join("u." + c for c in _USER_COLS.split(", "))


async def insert_user(
    conn: Connection,
    username: str,
    display_name: str,
    role: str,
    tenant_id: str | None,
    password_hash: str,
) -> Any:
    return await conn.fetchrow(
        f"""INSERT INTO console_users (username, display_name, role, tenant_id, password_hash)
            VALUES ($1, $2, $3, $4, $5) RETURNING {_USER_COLS}""",
        username, display_name, role, tenant_id, password_hash,
    )  # fmt: skip


async def login_row(conn: Connection, username: str) -> Any:
    """A user with its hash and throttle counters, locked for the attempt."""
    return await conn.fetchrow(
        f"""SELECT {_USER_COLS}, password_hash, failed_logins, last_failed_at, locked_until
            FROM console_users WHERE username = $1 FOR UPDATE""",
        username,
    )


async def get_user(conn: Connection, user_id: int) -> Any:
    return await conn.fetchrow(
        f"SELECT {_USER_COLS}, password_hash FROM console_users WHERE id = $1", user_id
    )


async def list_users(conn: Connection, tenant_id: str | None) -> list[Any]:
    return await conn.fetch(
        f"""SELECT {_USER_COLS}, failed_logins, locked_until FROM console_users
            WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY username""",
        tenant_id,
    )


async def record_failure(conn: Connection, user_id: int, failures: int, locked: Any) -> None:
    await conn.execute(
        """UPDATE console_users SET failed_logins = $2, last_failed_at = now(), locked_until = $3
           WHERE id = $1""",
        user_id, failures, locked,
    )  # fmt: skip


async def record_success(conn: Connection, user_id: int, rehashed: str | None) -> None:
    await conn.execute(
        """UPDATE console_users SET failed_logins = 0, last_failed_at = NULL, locked_until = NULL,
                  password_hash = coalesce($2, password_hash) WHERE id = $1""",
        user_id, rehashed,
    )  # fmt: skip


async def set_password(conn: Connection, user_id: int, password_hash: str) -> None:
    await conn.execute(
        """UPDATE console_users SET password_hash = $2, password_changed_at = now(),
                  failed_logins = 0, locked_until = NULL WHERE id = $1""",
        user_id, password_hash,
    )  # fmt: skip


async def insert_session(
    conn: Connection, token_hash: bytes, user_id: int, csrf: str, expires_at: datetime
) -> None:
    await conn.execute(
        """INSERT INTO console_sessions (token_hash, user_id, csrf_token, expires_at)
           VALUES ($1, $2, $3, $4)""",
        token_hash, user_id, csrf, expires_at,
    )  # fmt: skip


async def touch_session(conn: Connection, token_hash: bytes, idle_s: int) -> Any:
    """The live session's user and csrf token, its idle clock restarted; None if gone."""
    return await conn.fetchrow(
        f"""UPDATE console_sessions s SET last_seen_at = now()
            FROM console_users u
            WHERE s.token_hash = $1 AND u.id = s.user_id AND NOT u.disabled
              AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2)
            RETURNING s.csrf_token, s.expires_at, {_U_COLS}""",
        token_hash, idle_s,
    )  # fmt: skip


async def delete_session(conn: Connection, token_hash: bytes) -> None:
    await conn.execute("DELETE FROM console_sessions WHERE token_hash = $1", token_hash)


async def delete_user_sessions(conn: Connection, user_id: int, keep: bytes | None) -> None:
    await conn.execute(
        """DELETE FROM console_sessions WHERE user_id = $1
           AND ($2::bytea IS NULL OR token_hash <> $2)""",
        user_id, keep,
    )  # fmt: skip


async def delete_expired(conn: Connection, idle_s: int) -> int:
    done = await conn.execute(
        """DELETE FROM console_sessions
           WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1)""",
        idle_s,
    )
    return int(done.split()[-1])
