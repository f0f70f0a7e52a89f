"""The kernel subcommands as a user runs them: migrate, doctor, and refusing an old schema."""

from __future__ import annotations

import os
import subprocess
import sys

from tests import services


def servitize_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servitize.cli", *args],
        env=dict(os.environ, SERVITIZE_STORAGE="postgresql", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_migrate_doctor_and_unmigrated_refusal(pg_server: str, broker_url: str) -> None:
    url = await services.create_database(pg_server)
    try:
        for command in (
            ["ingest"],
            ["detect"],
            ["bill", "--period", "2026-11"],
            ["registry", "seed-types"],
            ["keys", "list"],
        ):
            refused = servitize_cli(
                *command, SERVITIZE_DATABASE_URL=url, SERVITIZE_MQTT_URL=broker_url
            )
            assert refused.returncode == 2, (command, refused.stderr)
            assert "run `servitize migrate`" in refused.stderr
        sick = servitize_cli("doctor", SERVITIZE_DATABASE_URL=url, SERVITIZE_MQTT_URL=broker_url)
        assert sick.returncode == 1 and "BAD schema" in sick.stdout
        first = servitize_cli("migrate", SERVITIZE_DATABASE_URL=url)
        again = servitize_cli("migrate", SERVITIZE_DATABASE_URL=url)
        assert first.returncode == 0 and "storage path: postgresql" in first.stdout
        assert "none (up to date)" in again.stdout
        ok = servitize_cli("doctor", SERVITIZE_DATABASE_URL=url, SERVITIZE_MQTT_URL=broker_url)
        assert ok.returncode == 0, ok.stdout
        assert "storage path  postgresql" in ok.stdout and "ok  broker" in ok.stdout
    finally:
        await services.drop_database(pg_server, url)


def test_missing_database_url_says_what_to_do() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SERVITIZE_DATABASE_URL"}
    out = subprocess.run(
        [sys.executable, "-m", "servitize.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd="/",
    )
    assert out.returncode == 2 and "SERVITIZE_DATABASE_URL is not set" in out.stderr


async def test_registry_commands_register_a_site_and_device(db_url: str) -> None:
    assert servitize_cli("registry", "seed-types", SERVITIZE_DATABASE_URL=db_url).returncode == 0
    orphan = servitize_cli(
        "registry",
        "add-site",
        "s1",
        "--tenant",
        "nobody",
        "--name",
        "S",
        SERVITIZE_DATABASE_URL=db_url,
    )
    assert orphan.returncode == 2 and "tenant nobody does not exist" in orphan.stderr
    for cmd in (
        ("add-tenant", "grid", "--name", "Grid Co"),
        ("add-site", "sub-1", "--tenant", "grid", "--name", "Substation 1", "--kind", "substation"),
        (
            "add-device",
            "robot-1",
            "--type",
            "substation-robot",
            "--tenant",
            "grid",
            "--site",
            "sub-1",
        ),
    ):
        done = servitize_cli("registry", *cmd, SERVITIZE_DATABASE_URL=db_url)
        assert done.returncode == 0, done.stderr
    assert "MQTT password (shown once)" in done.stdout
