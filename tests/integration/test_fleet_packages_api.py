"""Packages and campaigns through the API and the CLI: roles, tenants, limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fleet import campaign_service, signing, tokens
from servitize.db import Pool
from servitize.settings import Settings
from tests.integration.test_api_support import client, seed

PACKAGES = "/api/v1/fleet/packages"
QUERY = {"device_type_id": "substation-robot", "version": "2.1.0"}


def _settings(tmp_path: Path, max_bytes: int = 4096) -> Settings:
    key = tmp_path / "signing.pem"
    key.write_bytes(signing.private_pem(signing.new_key()))
    return Settings(mqtt_url=None, fleet_signing_key=key, fleet_max_package_bytes=max_bytes)


async def test_only_provider_admins_upload_and_limits_hold(pool: Pool, tmp_path: Path) -> None:
    world = await seed(pool)
    body, octet = b"\x7fELF" + os.urandom(1000), {"Content-Type": "application/octet-stream"}
    async with client(pool, _settings(tmp_path)) as api:
        for role, tenant in (("admin", "acme"), ("operator", None)):
            refused = await api.post(PACKAGES, params=QUERY, content=body,
                                     headers=world.headers(role, tenant) | octet)  # fmt: skip
            assert refused.status_code == 403, (role, tenant)
        admin = world.headers("admin") | octet
        made = await api.post(PACKAGES, params=QUERY, content=body, headers=admin)
        assert made.status_code == 201, made.text
        package = made.json()
        assert package["sha256"] == signing.sha256_hex(body) and package["size"] == len(body)
        dup = await api.post(PACKAGES, params=QUERY, content=body, headers=admin)
        assert dup.status_code == 409
        big = await api.post(PACKAGES, params=QUERY | {"version": "9"}, content=b"x" * 5000,
                             headers=admin)  # fmt: skip
        assert big.status_code == 422 and "over the 4096 limit" in big.json()["detail"]
        empty = await api.post(PACKAGES, params=QUERY | {"version": "8"}, content=b"",
                               headers=admin)  # fmt: skip
        assert empty.status_code == 422
        listed = await api.get(PACKAGES, headers=world.headers("viewer", "acme"))
        assert [p["id"] for p in listed.json()] == [package["id"]]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM fleet_blobs") == 1


async def test_campaign_visibility_by_tenant(pool: Pool, tmp_path: Path) -> None:
    world = await seed(pool)
    async with client(pool, _settings(tmp_path)) as api:
        octet = {"Content-Type": "application/octet-stream"}
        await api.post(PACKAGES, params=QUERY, content=b"fw" * 100,
                       headers=world.headers("admin") | octet)  # fmt: skip
        spec = {"id": "globex-only", "name": "Robots", "package_id": "substation-robot-2.1.0",
                "tenant_id": "globex", "waves": [100]}  # fmt: skip
        tenant_try = await api.post("/api/v1/fleet/campaigns", json=spec,
                                    headers=world.headers("operator", "acme"))  # fmt: skip
        assert tenant_try.status_code == 403
        made = await api.post("/api/v1/fleet/campaigns", json=spec,
                              headers=world.headers("operator"))  # fmt: skip
        assert made.status_code == 201 and made.json()["counts"] == {"QUEUED": 1}
        acme = world.headers("viewer", "acme")
        assert (
            await api.get("/api/v1/fleet/campaigns/globex-only", headers=acme)
        ).status_code == 404
        assert (await api.get("/api/v1/fleet/campaigns", headers=acme)).json() == []
        seen = await api.get("/api/v1/fleet/campaigns", headers=world.headers("viewer"))
        assert [c["id"] for c in seen.json()] == ["globex-only"]
        bad = await api.post("/api/v1/fleet/campaigns", json=spec | {"id": "x", "waves": [50]},
                             headers=world.headers("operator"))  # fmt: skip
        assert bad.status_code == 422 and "waves" in bad.json()["detail"]
        paused = await api.post("/api/v1/fleet/campaigns/globex-only/pause",
                                headers=world.headers("operator"))  # fmt: skip
        assert paused.json()["state"] == "PAUSED"


def _servitize(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servitize.cli", "fleet", *args],
        env=dict(os.environ, **env), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


async def test_cli_keygen_upload_campaign(pool: Pool, db_url: str, tmp_path: Path) -> None:
    await seed(pool)
    assert _servitize("keygen", "--out", str(tmp_path)).returncode == 0
    assert (tmp_path / "signing.pem").stat().st_mode & 0o077 == 0
    image = tmp_path / "fw.bin"
    image.write_bytes(os.urandom(3000))
    env = {"SERVITIZE_DATABASE_URL": db_url,
           "SERVITIZE_FLEET_SIGNING_KEY": str(tmp_path / "signing.pem")}  # fmt: skip
    up = _servitize("upload", "substation-robot", "3.0.0", str(image), **env)
    assert up.returncode == 0, up.stderr
    package = json.loads(up.stdout)
    public = signing.load_public((tmp_path / "public.pem").read_bytes())
    assert (
        signing.verify(public, image.read_bytes(), package["sha256"], package["signature"]) is None
    )
    made = _servitize("campaign", "--id", "r3", "--package-id", package["id"], "--waves", "100",
                      "--tenant-id", "acme", **env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    status = _servitize("cancel", "r3", **env)
    assert json.loads(status.stdout)["state"] == "CANCELED"
    again = _servitize("cancel", "r3", **env)
    assert again.returncode != 0 and "already CANCELED" in again.stderr


async def test_http_download_with_range_and_short_lived_token(pool: Pool, tmp_path: Path) -> None:
    world = await seed(pool)
    content = os.urandom(3000)
    settings = _settings(tmp_path).model_copy(update={"fleet_download_secret": "s3cret"})
    soon = datetime.now(UTC) + timedelta(minutes=5)
    mine = tokens.make(b"s3cret", "acme-r1", "dl", soon)
    async with client(pool, settings) as api:
        octet = {"Content-Type": "application/octet-stream"}
        await api.post(PACKAGES, params=QUERY, content=content,
                       headers=world.headers("admin") | octet)  # fmt: skip
        spec = {"id": "dl", "name": "dl", "package_id": "substation-robot-2.1.0",
                "tenant_id": "acme", "waves": [100]}  # fmt: skip
        assert (await api.post("/api/v1/fleet/campaigns", json=spec,
                               headers=world.headers("operator"))).status_code == 201  # fmt: skip
        url = f"/api/v1/fleet/downloads/{mine}"
        whole = await api.get(url)
        assert (whole.status_code, whole.content) == (200, content)
        assert whole.headers["accept-ranges"] == "bytes"
        part = await api.get(url, headers={"Range": "bytes=1000-1999"})
        assert (part.status_code, part.content) == (206, content[1000:2000])
        assert part.headers["content-range"] == "bytes 1000-1999/3000"
        assert (await api.get(url, headers={"Range": "bytes=5000-"})).status_code == 416
        other = tokens.make(b"s3cret", "globex-r1", "dl", soon)  # not targeted
        assert (await api.get(f"/api/v1/fleet/downloads/{other}")).status_code == 404
        old = tokens.make(b"s3cret", "acme-r1", "dl", datetime.now(UTC) - timedelta(seconds=1))
        forged = tokens.make(b"guess", "acme-r1", "dl", soon)
        for bad in (old, forged):
            assert (await api.get(f"/api/v1/fleet/downloads/{bad}")).status_code == 401
        await campaign_service.control(pool, "dl", "cancel", None, "test")
        assert (await api.get(url)).status_code == 404  # finished: no longer downloadable
