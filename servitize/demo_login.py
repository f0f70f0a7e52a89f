"""The demo's credentials, kept across restarts: one admin API key and one console login,
stored in the demo's data directory (mode 0600) and reused while they still work."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from servitize.db import Pool

DEMO_USER = "demo"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """An admin API key and the console user's name and password."""

    api_key: str
    username: str
    password: str


def _read(path: Path) -> DemoLogin | None:
    try:
        return DemoLogin(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _write(path: Path, found: DemoLogin) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(found), f)


async def demo_login(pool: Pool, path: Path) -> DemoLogin:
    """The stored credentials where they still work; new ones (saved) where not."""
    from api import service as keys
    from console import service as console

    saved = _read(path)
    token = saved.api_key if saved else ""
    if not token or await keys.authenticate(pool, token) is None:
        token = (await keys.create_key(pool, "admin", None, "demo admin"))[1]
    password = saved.password if saved else ""
    try:
        await console.login(pool, DEMO_USER, password, console.ThrottlePolicy())
    except console.LoginRefused:
        password = secrets.token_urlsafe(12)
        await console.reset_password(pool, DEMO_USER, password, role="admin")
    found = DemoLogin(api_key=token, username=DEMO_USER, password=password)
    if found != saved:
        _write(path, found)
    return found


def servitize_command() -> str:
    """How to run `servitize` from the current directory, as a banner should print it."""
    on_path = shutil.which("servitize")
    here = Path(sys.executable).parent / "servitize"
    if on_path and Path(on_path).resolve() == here.resolve():
        return "servitize"
    if not here.exists():
        return "servitize"
    try:
        return str(here.relative_to(Path.cwd()))
    except ValueError:
        return str(here)
