"""`servitize api` and `servitize demo` as real processes stop within 5 s on SIGINT or SIGTERM
while a Server-Sent Events client holds a stream open, and say that they are stopping."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api import service as keys
from servitize.db import Pool
from servitize.infra import free_port

STOP_WITHIN_S = 5.0


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "servitize.cli", *args],
        env=dict(os.environ, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _collect(proc: subprocess.Popen[str]) -> list[str]:
    """Read the process's output on a thread (so a full pipe never blocks it)."""
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        lines.extend(iter(proc.stdout.readline, ""))

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_ready(base: str, proc: subprocess.Popen[str], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited before it was ready"
        try:
            if httpx.get(base + "/api/v1/health/live", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not become ready")


@contextmanager
def _sse_client(base: str, token: str) -> Iterator[threading.Event]:
    """An alert stream held open on a thread; the event is set once its 200 arrived."""
    opened = threading.Event()

    def hold() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            with httpx.stream("GET", base + "/api/v1/alerts/stream", headers=headers,
                              timeout=httpx.Timeout(5, read=None)) as response:  # fmt: skip
                assert response.status_code == 200
                opened.set()
                for _ in response.iter_bytes():
                    pass
        except httpx.HTTPError:
            pass  # the server went away: what the test is after

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield opened
    thread.join(timeout=10)


def _stop_and_time(proc: subprocess.Popen[str], sig: signal.Signals) -> float:
    started = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(timeout=STOP_WITHIN_S + 25)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return time.monotonic() - started


def _stop_while_streaming(
    proc: subprocess.Popen[str], base: str, token: str, sig: signal.Signals
) -> float:
    """Open an alert stream on the running server, signal it, and time until it exits."""
    try:
        _wait_ready(base, proc, within=60)
        with _sse_client(base, token) as opened:
            assert opened.wait(10), "the stream did not open"
            return _stop_and_time(proc, sig)
    finally:
        if proc.poll() is None:
            proc.kill()


def _token_from_banner(proc: subprocess.Popen[str], out: list[str]) -> str:
    deadline = time.monotonic() + 120
    while not any("Admin API key:" in line for line in out):
        assert proc.poll() is None and time.monotonic() < deadline, "".join(out)
        time.sleep(0.2)
    match = re.search(r"Admin API key: (\S+)", "".join(out))
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_api_stops_within_5_s_with_a_stream_open(
    pool: Pool, db_url: str, sig: signal.Signals
) -> None:
    _, token = await keys.create_key(pool, "viewer")
    port = free_port()
    env = {"SERVITIZE_DATABASE_URL": db_url, "SERVITIZE_LOG_LEVEL": "WARNING"}
    proc = _start(["api", "--host", "127.0.0.1", "--port", str(port)], env)
    out = _collect(proc)
    took = _stop_while_streaming(proc, f"http://127.0.0.1:{port}", token, sig)
    print(f"api stopped {took:.1f} s after {sig.name}")
    assert took < STOP_WITHIN_S, f"stopping took {took:.1f} s"
    assert "stopping" in "".join(out)
    assert "Traceback" not in "".join(out) and "ERROR" not in "".join(out), out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_demo_stops_within_5_s_with_a_stream_open(
    db_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    # The demo starts its own broker (in tmp_path): its fleet's retained status messages and
    # queued sessions must not reach the tests that share the session's broker.
    port = free_port()
    env = {
        "SERVITIZE_DATABASE_URL": db_url,
        "SERVITIZE_MQTT_URL": "",
        "SERVITIZE_DATA_DIR": str(tmp_path),
        "SERVITIZE_API_HOST": "127.0.0.1",
        "SERVITIZE_LOG_LEVEL": "WARNING",
    }
    proc = _start(["demo", "--api-port", str(port)], env)
    out = _collect(proc)
    try:
        token = _token_from_banner(proc, out)
    except BaseException:
        proc.kill()
        raise
    took = _stop_while_streaming(proc, f"http://127.0.0.1:{port}", token, sig)
    print(f"demo stopped {took:.1f} s after {sig.name}")
    assert took < STOP_WITHIN_S, f"stopping took {took:.1f} s: {''.join(out)[-2000:]}"
    assert "stopping" in "".join(out)
    assert "Traceback" not in "".join(out), out
