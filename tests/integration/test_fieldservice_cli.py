"""`servitize service ...` as a user runs it, on a migrated database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from registry import service as registry
from registry.models import Device, Site, Tenant
from servitize.db import Pool


def _service(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servitize.cli", "service", *args],
        env=dict(os.environ, SERVITIZE_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_cli_creates_moves_and_reports(pool: Pool, db_url: str, tmp_path: Path) -> None:
    await registry.ensure_builtin_types(pool)
    await registry.save_tenant(pool, Tenant("acme", "Acme"), [Site("s1", "acme", "Site")])
    await registry.register_devices(pool, [Device("r1", "substation-robot", "acme", "s1")])
    tech = _service(db_url, "technician", "li", "--name", "Li", "--skill", "substation-robot")
    assert tech.returncode == 0, tech.stderr
    made = _service(db_url, "create", "--tenant", "acme", "--title", "Noise", "--device", "r1")
    assert made.returncode == 0, made.stderr
    wo = json.loads(made.stdout)
    assert wo["number"].startswith("WO-")
    bad = _service(db_url, "move", str(wo["id"]), "completed")
    assert bad.returncode == 1 and "cannot go from new to completed" in bad.stderr
    for args in (["qualified"], ["assigned", "--technician", "li"]):
        moved = _service(db_url, "move", str(wo["id"]), *args)
        assert moved.returncode == 0, moved.stderr
    listed = json.loads(_service(db_url, "list", "--state", "assigned").stdout)
    assert [x["id"] for x in listed] == [wo["id"]]
    suggested = json.loads(_service(db_url, "suggest", str(wo["id"])).stdout)
    assert suggested[0]["technician_id"] == "li"
    out = tmp_path / "wo.pdf"
    assert _service(db_url, "report", str(wo["id"]), "--out", str(out)).returncode == 0
    assert out.read_bytes().startswith(b"%PDF")
