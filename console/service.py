"""Console use cases: users (create, list, change password), log in with throttling and
lock-out, sessions (open, resolve with idle and absolute expiry, close). Each public function
is one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from console import repository as repo
from console import security
from console.models import LoginRefused, Session, ThrottlePolicy, User, check_password
from console.models import check_username as _check_username
from registry import service as registry
from servitize.db import Pool, transaction
from servitize.settings import Settings

__all__ = ["LoginRefused", "ThrottlePolicy", "create_user", "login", "open_session"]


class UserExists(ValueError):
    """A user of this name exists."""


def policy_of(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        throttle_after=settings.console_throttle_after,
        lock_after=settings.console_lock_after,
        lock_s=settings.console_lock_s,
    )


def _user(row: Any) -> User:
    return User(
        id=row["id"], username=row["username"], display_name=row["display_name"],
        role=row["role"], tenant_id=row["tenant_id"], disabled=row["disabled"],
        created_at=row["created_at"],
    )  # fmt: skip


async def create_user(
    pool: Pool,
    username: str,
    password: str,
    role: str,
    tenant_id: str | None = None,
    display_name: str = "",
) -> User:
    """A new user; ValueError for a bad name, role, password or an unknown tenant."""
    User(id=0, username=_check_username(username), display_name="", role=role, tenant_id=None)
    digest = security.hash_password(check_password(password))
    async with transaction(pool) as conn:
        if tenant_id is not None and not await registry.tenant_exists(conn, tenant_id):
            raise ValueError(f"tenant {tenant_id} does not exist")
        try:
            row = await repo.insert_user(conn, username, display_name, role, tenant_id, digest)
        except asyncpg.UniqueViolationError as exc:
            raise UserExists(f"user {username} exists") from exc
    return _user(row)


async def list_users(pool: Pool, tenant_id: str | None) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return [dict(r) for r in await repo.list_users(conn, tenant_id)]


async def login(pool: Pool, username: str, password: str, policy: ThrottlePolicy) -> User:
    """The user whose password this is; LoginRefused otherwise (the failure is committed)."""
    async with transaction(pool) as conn:
        outcome = await _attempt(conn, username, password, policy)
    if isinstance(outcome, LoginRefused):
        raise outcome
    return outcome


async def _attempt(
    conn: Any, username: str, password: str, policy: ThrottlePolicy
) -> User | LoginRefused:
    row = await repo.login_row(conn, username)
    now = datetime.now(UTC)
    if row is None:
        security.verify_password(None, password)
        return LoginRefused("bad_credentials")
    wait = security.refusal(
        row["failed_logins"], row["last_failed_at"], row["locked_until"], now, policy
    )
    if wait:
        locked = row["locked_until"] is not None and row["locked_until"] > now
        return LoginRefused("locked" if locked else "throttled", wait)
    if row["disabled"] or not security.verify_password(row["password_hash"], password):
        await _failed(conn, row, now, policy)
        return LoginRefused("bad_credentials")
    fresh = (
        security.hash_password(password) if security.needs_rehash(row["password_hash"]) else None
    )
    await repo.record_success(conn, row["id"], fresh)
    return _user(row)


async def _failed(conn: Any, row: Any, now: datetime, policy: ThrottlePolicy) -> None:
    lapsed = row["locked_until"] is not None and row["locked_until"] <= now
    failures = (0 if lapsed else row["failed_logins"]) + 1
    await repo.record_failure(
        conn, row["id"], failures, security.after_failure(failures, now, policy)
    )


async def open_session(pool: Pool, user: User, max_s: int) -> tuple[str, Session]:
    """A new session for the user: the cookie value (shown once) and the session."""
    token, csrf = security.new_token(), security.new_token()
    expires = datetime.now(UTC) + timedelta(seconds=max_s)
    async with transaction(pool) as conn:
        await repo.insert_session(conn, security.token_hash(token), user.id, csrf, expires)
    return token, Session(user, csrf, expires)


async def session(pool: Pool, token: str | None, idle_s: int) -> Session | None:
    """The live session of a cookie value, its idle clock restarted; None if expired or unknown."""
    if not token:
        return None
    async with transaction(pool) as conn:
        row = await repo.touch_session(conn, security.token_hash(token), idle_s)
    return None if row is None else Session(_user(row), row["csrf_token"], row["expires_at"])


async def close_session(pool: Pool, token: str) -> None:
    async with transaction(pool) as conn:
        await repo.delete_session(conn, security.token_hash(token))


async def change_password(pool: Pool, user: User, old: str, new: str, token: str) -> None:
    """Change the user's password (the old one must match); other sessions end."""
    digest = security.hash_password(check_password(new))
    async with transaction(pool) as conn:
        row = await repo.get_user(conn, user.id)
        if row is None or not security.verify_password(row["password_hash"], old):
            raise LoginRefused("bad_credentials")
        await repo.set_password(conn, user.id, digest)
        await repo.delete_user_sessions(conn, user.id, keep=security.token_hash(token))


async def reset_password(pool: Pool, username: str, password: str, *, role: str) -> None:
    """Set a user's password (creating the provider-wide user with this role if missing);
    the user's sessions end. For operators' tooling (the demo's login), not for people."""
    digest = security.hash_password(check_password(password))
    async with transaction(pool) as conn:
        row = await repo.login_row(conn, username)
        if row is None:
            await repo.insert_user(conn, _check_username(username), "", role, None, digest)
            return
        await repo.set_password(conn, row["id"], digest)
        await repo.delete_user_sessions(conn, row["id"], keep=None)


async def purge_sessions(pool: Pool, idle_s: int) -> int:
    """Delete expired sessions; how many went."""
    async with transaction(pool) as conn:
        return await repo.delete_expired(conn, idle_s)
