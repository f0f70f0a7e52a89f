"""A wrong database URL, an unusable broker and a busy API port each give one line with the
cause and what to do, and a non-zero exit; never a traceback."""

from __future__ import annotations

import socket
import subprocess

import pytest

from servitize.infra import free_port
from tests.integration.test_cli_kernel import servitize_cli

BAD_URLS = [
    "postgresql://postgres:s3cret@127.0.0.1:1/servitize",  # nothing listens there
    "postgresql://postgres@127.0.0.1:5432/servitize_no_such_database",
    "mysql://root@127.0.0.1/servitize",  # not a PostgreSQL URL at all
]


def _servitize(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return servitize_cli(*args, SERVITIZE_LOG_LEVEL="WARNING", **env)


def _error_lines(run: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    return [line for line in run.stderr.splitlines() if line.startswith("servitize:")]


COMMANDS = [["migrate"], ["ingest"], ["detect"], ["api"], ["keys", "list"], ["demo"]]


# Every command meets each kind of wrong URL once across the matrix (not all 18 pairs).
@pytest.mark.parametrize(
    ("command", "url"), [(c, BAD_URLS[i % len(BAD_URLS)]) for i, c in enumerate(COMMANDS)]
)
def test_a_wrong_database_url_is_one_line(command: list[str], url: str) -> None:
    env = {"SERVITIZE_DATABASE_URL": url, "SERVITIZE_MQTT_URL": "mqtt://127.0.0.1:1"}
    run = _servitize(*command, **env, SERVITIZE_API_PORT=str(free_port()))
    lines = _error_lines(run)
    assert run.returncode == 2 and len(lines) == 1, run.stderr
    assert "cannot use the database" in lines[0] and "SERVITIZE_DATABASE_URL" in lines[0]
    assert "s3cret" not in lines[0]


@pytest.mark.parametrize("url", BAD_URLS)
def test_doctor_says_why_the_database_is_bad_and_still_checks_the_broker(
    url: str, broker_url: str
) -> None:
    run = _servitize("doctor", SERVITIZE_DATABASE_URL=url, SERVITIZE_MQTT_URL=broker_url)
    assert _error_lines(run) == [] and run.returncode == 1
    bad = [line for line in run.stdout.splitlines() if line.startswith("BAD database")]
    assert len(bad) == 1 and "SERVITIZE_DATABASE_URL" in bad[0], run.stdout
    assert "ok  broker" in run.stdout


def test_doctor_says_why_the_broker_is_bad(db_url: str) -> None:
    port = free_port()
    run = _servitize(
        "doctor", SERVITIZE_DATABASE_URL=db_url, SERVITIZE_MQTT_URL=f"mqtt://127.0.0.1:{port}"
    )
    assert run.returncode == 1
    broker = [line for line in run.stdout.splitlines() if "broker" in line]
    assert len(broker) == 1 and broker[0].startswith("BAD broker"), run.stdout
    assert "cannot connect" in broker[0] and "SERVITIZE_MQTT_URL" in broker[0]
    resolves = _servitize(
        "doctor", SERVITIZE_DATABASE_URL=db_url, SERVITIZE_MQTT_URL="mqtt://no-such-host.invalid"
    )
    assert "does not resolve" in resolves.stdout


@pytest.mark.parametrize("command", [["api"], ["demo"]])
def test_a_busy_api_port_is_one_line(db_url: str, broker_url: str, command: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        run = _servitize(
            *command,
            SERVITIZE_DATABASE_URL=db_url,
            SERVITIZE_MQTT_URL=broker_url,
            SERVITIZE_API_HOST="127.0.0.1",
            SERVITIZE_API_PORT=port,
        )
    lines = _error_lines(run)
    assert run.returncode == 2 and len(lines) == 1, run.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0] and "SERVITIZE_API_PORT" in lines[0]
