"""Registry routes against a real database: tenants, sites, device types, devices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from registry import credentials
from servitize.db import Pool
from tests.integration.test_api_support import client, seed


async def test_tenant_create_get_patch_conflict(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        h = w.headers()
        body = {"id": "initech", "name": "Initech", "timezone": "Europe/Berlin"}
        created = await c.post("/api/v1/tenants", json=body, headers=h)
        assert created.status_code == 201
        assert created.json()["timezone"] == "Europe/Berlin"
        again = await c.post("/api/v1/tenants", json=body, headers=h)
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        bad_zone = await c.post(
            "/api/v1/tenants", json={"id": "x", "name": "X", "timezone": "Mars/Base"}, headers=h
        )
        assert bad_zone.status_code == 422
        patched = await c.patch("/api/v1/tenants/initech", json={"tax_id": "91310000X"}, headers=h)
        assert patched.json()["tax_id"] == "91310000X"
        assert patched.json()["name"] == "Initech"
        assert (await c.get("/api/v1/tenants/initech", headers=h)).json()["tax_id"] == "91310000X"
        assert (await c.get("/api/v1/tenants/nobody", headers=h)).status_code == 404


async def test_tenant_pages_follow_cursor(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        first = (await c.get("/api/v1/tenants?limit=1", headers=w.headers())).json()
        second = await c.get(
            f"/api/v1/tenants?limit=1&after={first['next_cursor']}", headers=w.headers()
        )
        assert [i["id"] for i in first["items"]] == ["acme"]
        assert [i["id"] for i in second.json()["items"]] == ["globex"]
        assert second.json()["next_cursor"] is None
        too_big = await c.get("/api/v1/tenants?limit=501", headers=w.headers())
        assert too_big.status_code == 422


async def test_sites_crud_and_in_use_conflict(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        h = w.headers("admin", "acme")
        made = await c.post(
            "/api/v1/sites", json={"id": "acme-south", "name": "South", "latitude": 31.2}, headers=h
        )
        assert made.status_code == 201
        assert made.json()["tenant_id"] == "acme"
        patched = await c.patch("/api/v1/sites/acme-south", json={"kind": "slope"}, headers=h)
        assert patched.json()["kind"] == "slope"
        assert patched.json()["latitude"] == 31.2
        wrong_lat = await c.patch("/api/v1/sites/acme-south", json={"latitude": 91}, headers=h)
        assert wrong_lat.status_code == 422
        assert (await c.delete("/api/v1/sites/acme-site", headers=h)).status_code == 409
        assert (await c.delete("/api/v1/sites/acme-south", headers=h)).status_code == 204
        assert (await c.get("/api/v1/sites/acme-south", headers=h)).status_code == 404
        provider = await c.post(
            "/api/v1/sites", json={"id": "orphan", "name": "O"}, headers=w.headers()
        )
        assert provider.status_code == 422


async def test_device_types_list_get_create(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        types = (await c.get("/api/v1/device-types", headers=w.headers("viewer"))).json()
        assert {"substation-robot", "slope-monitor", "bridge-monitor", "pump-motor"} <= {
            t["id"] for t in types
        }
        robot = (
            await c.get(
                "/api/v1/device-types/substation-robot", headers=w.headers("finance", "acme")
            )
        ).json()
        battery = next(m for m in robot["metrics"] if m["name"] == "battery_pct")
        assert (battery["min_value"], battery["max_value"], battery["unit"]) == (0, 100, "%")
        new = {
            "id": "gas",
            "name": "Gas",
            "reporting_interval_s": 30,
            "metrics": [{"name": "ppm", "min_value": 0, "max_value": 1000}],
        }
        assert (
            await c.post("/api/v1/device-types", json=new, headers=w.headers("admin", "acme"))
        ).status_code == 403
        assert (
            await c.post("/api/v1/device-types", json=new, headers=w.headers())
        ).status_code == 201
        assert (
            await c.post("/api/v1/device-types", json=new, headers=w.headers())
        ).status_code == 409
        reversed_range = new | {
            "id": "gas2",
            "metrics": [{"name": "ppm", "min_value": 5, "max_value": 1}],
        }
        assert (
            await c.post("/api/v1/device-types", json=reversed_range, headers=w.headers())
        ).status_code == 422
        assert (await c.get("/api/v1/device-types/gas", headers=w.headers())).json()["metrics"][0][
            "max_value"
        ] == 1000


async def test_device_lifecycle_status_and_rotation(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        h = w.headers()
        body = {
            "id": "pump-9",
            "device_type_id": "pump-motor",
            "tenant_id": "acme",
            "site_id": "acme-site",
        }
        made = await c.post("/api/v1/devices", json=body, headers=h)
        assert made.status_code == 201
        password = made.json()["credential"]["password"]
        async with pool.acquire() as conn:
            stored = await conn.fetchval("SELECT credential_hash FROM devices WHERE id = 'pump-9'")
            # heard from just now: online (silence past 5 reporting intervals would be silent)
            await conn.execute(
                "INSERT INTO device_status (device_id, online, status_changed_at, last_seen_at)"
                " VALUES ('pump-9', true, now(), now())"
            )
        assert credentials.verify_password(password, stored)
        assert (await c.post("/api/v1/devices", json=body, headers=h)).status_code == 409
        wrong_site = body | {"id": "pump-10", "site_id": "globex-site"}
        assert (await c.post("/api/v1/devices", json=wrong_site, headers=h)).status_code == 422
        unknown_type = body | {"id": "pump-11", "device_type_id": "warp-core"}
        assert (await c.post("/api/v1/devices", json=unknown_type, headers=h)).status_code == 422
        got = (await c.get("/api/v1/devices/pump-9", headers=h)).json()
        assert got["online"] is True and got["presence"] == "online"
        assert datetime.fromisoformat(got["last_seen_at"]) > datetime.now(UTC) - timedelta(
            minutes=5
        )
        online = (await c.get("/api/v1/devices?online=true", headers=h)).json()["items"]
        assert [d["id"] for d in online] == ["pump-9"]
        rotated = (await c.post("/api/v1/devices/pump-9/credential", headers=h)).json()
        async with pool.acquire() as conn:
            stored = await conn.fetchval("SELECT credential_hash FROM devices WHERE id = 'pump-9'")
        assert credentials.verify_password(rotated["password"], stored)
        assert not credentials.verify_password(password, stored)
        patched = await c.patch(
            "/api/v1/devices/pump-9", json={"enabled": False, "site_id": None}, headers=h
        )
        assert (patched.json()["enabled"], patched.json()["site_id"]) == (False, None)
        moved = await c.patch("/api/v1/devices/pump-9", json={"site_id": "globex-site"}, headers=h)
        assert moved.status_code == 422
        assert (await c.delete("/api/v1/devices/pump-9", headers=h)).status_code == 204
        assert (await c.get("/api/v1/devices/pump-9", headers=h)).status_code == 404


async def test_control_characters_and_unknown_fields_are_refused(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        nul = await c.post(
            "/api/v1/tenants", json={"id": "nul", "name": "a\u0000b"}, headers=w.headers()
        )
        extra = await c.post(
            "/api/v1/tenants", json={"id": "ex", "name": "E", "owner": "me"}, headers=w.headers()
        )
        bad_path = await c.get("/api/v1/devices/has%20space", headers=w.headers())
    assert nul.status_code == extra.status_code == bad_path.status_code == 422
    assert nul.json()["errors"][0]["loc"] == ["body", "name"]


async def test_null_for_required_fields_is_422_and_never_seen_is_offline(pool: Pool) -> None:
    w = await seed(pool)
    async with client(pool) as c:
        h = w.headers()
        tenant = await c.patch("/api/v1/tenants/acme", json={"name": None}, headers=h)
        device = await c.patch("/api/v1/devices/acme-r1", json={"enabled": None}, headers=h)
        offline = (await c.get("/api/v1/devices?online=false", headers=h)).json()["items"]
        online = (await c.get("/api/v1/devices?online=true", headers=h)).json()["items"]
    assert tenant.status_code == device.status_code == 422
    assert "may not be null" in tenant.json()["detail"]
    assert {d["id"] for d in offline} == {"acme-r1", "globex-r1"}
    assert online == []
