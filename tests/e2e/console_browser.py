"""Debian's Chromium for the console's browser tests, driven by Playwright (never
`playwright install`): found on PATH, installed with apt-get where missing, else skipped."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = Path(__file__).parent / "screenshots"


def chromium() -> str:
    """The chromium executable; tries `apt-get install -y chromium` once, else skips."""
    found = shutil.which("chromium")
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip("chromium is not installed and there is no apt-get to install it")
    try:
        done = subprocess.run(
            ["apt-get", "install", "-y", "chromium"], capture_output=True, timeout=900, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"chromium could not be installed: {exc}")
    found = shutil.which("chromium")
    if done.returncode != 0 or not found:
        pytest.skip(f"chromium could not be installed: {done.stderr.decode()[-300:]}")
    return found


def shot(page_name: str) -> Path:
    """Where a page's screenshot goes (git-ignored)."""
    SHOTS.mkdir(exist_ok=True)
    return SHOTS / f"{page_name}.png"
