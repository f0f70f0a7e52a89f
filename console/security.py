"""Pure cores of the console's security: password hashing (Argon2id), session and CSRF tokens,
and the login throttle. No database, no web framework."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from console.models import ThrottlePolicy

# argon2-cffi's defaults are RFC 9106's second recommendation (Argon2id, 64 MiB, t=3, p=4).
_HASHER = PasswordHasher()
# A hash to verify against when the user does not exist, so both cases take as long.
_DUMMY = _HASHER.hash("not a password of anyone")


def hash_password(password: str) -> str:
    """An Argon2id hash in PHC string form (salt and parameters included)."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether the password matches the stored hash (a missing user costs the same time)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored)


def new_token() -> str:
    """A 256-bit random token, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    """How a session token is stored (a random 256-bit token needs no slow hash)."""
    return hashlib.sha256(token.encode()).digest()


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; a missing one never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def wait_s(failures: int, policy: ThrottlePolicy) -> int:
    """Seconds a login must wait after the last failure: 0 below throttle_after, then doubling."""
    if failures < policy.throttle_after:
        return 0
    return int(min(2 ** (failures - policy.throttle_after), policy.max_wait_s))


def after_failure(failures: int, now: datetime, policy: ThrottlePolicy) -> datetime | None:
    """When the account is locked until after this many failures (None: not locked)."""
    return now + timedelta(seconds=policy.lock_s) if failures >= policy.lock_after else None


def refusal(
    failures: int,
    last_failed_at: datetime | None,
    locked_until: datetime | None,
    now: datetime,
    policy: ThrottlePolicy,
) -> int:
    """Seconds until a login may be tried (0: now)."""
    if locked_until is not None and locked_until > now:
        return int((locked_until - now).total_seconds()) + 1
    if last_failed_at is None or (locked_until is not None and locked_until <= now):
        return 0
    ready = last_failed_at + timedelta(seconds=wait_s(failures, policy))
    return max(int((ready - now).total_seconds() + 0.999), 0)
