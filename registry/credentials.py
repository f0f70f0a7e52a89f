"""Device credentials in Mosquitto's PBKDF2-SHA512 password-file format ($7$)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# Mosquitto 2.x's mosquitto_passwd default; the broker reads the count from the hash.
_ITERATIONS = 101
_SALT_BYTES = 12


def new_password() -> str:
    """A random device password (shown once)."""
    return secrets.token_urlsafe(24)


def hash_password(
    password: str, *, salt: bytes | None = None, iterations: int = _ITERATIONS
) -> str:
    """Hash as `$7$<iterations>$<b64 salt>$<b64 sha512-pbkdf2>`, as mosquitto_passwd does."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a `$7$` hash."""
    try:
        _, kind, iterations, salt_b64, _digest = stored.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    salt = base64.b64decode(salt_b64)
    expected = hash_password(password, salt=salt, iterations=int(iterations))
    return hmac.compare_digest(expected, stored)
