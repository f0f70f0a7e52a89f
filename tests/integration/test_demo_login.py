"""The demo's credentials survive restarts: the same key and console password, still valid."""

from __future__ import annotations

import json
from pathlib import Path

from api import service as keys
from console import service as console
from servitize.db import Pool
from servitize.demo_login import demo_login, servitize_command


async def test_credentials_are_reused_across_restarts(pool: Pool, tmp_path: Path) -> None:
    path = tmp_path / "demo" / "credentials.json"
    first = await demo_login(pool, path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = await demo_login(pool, path)
    assert again == first
    assert len(await keys.list_keys(pool)) == 1
    user = await console.login(pool, first.username, first.password, console.ThrottlePolicy())
    assert user.role == "admin" and user.tenant_id is None
    assert await keys.authenticate(pool, first.api_key) is not None


async def test_revoked_key_or_changed_password_is_replaced(pool: Pool, tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    first = await demo_login(pool, path)
    await keys.revoke_key(pool, (await keys.list_keys(pool))[0].id)
    path.write_text(json.dumps({**json.loads(path.read_text()), "password": "stale one 1"}))
    second = await demo_login(pool, path)
    assert second.api_key != first.api_key and second.password != "stale one 1"
    assert await keys.authenticate(pool, second.api_key) is not None
    await console.login(pool, "demo", second.password, console.ThrottlePolicy())
    assert json.loads(path.read_text())["api_key"] == second.api_key


def test_the_printed_command_exists() -> None:
    cmd = servitize_command()
    assert cmd == "servitize" or Path(cmd).exists()
