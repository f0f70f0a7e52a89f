"""The isolation matrix: every role x every resource x own or other tenant, both key scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.models import ROLES
from servitize.db import Pool
from tests.integration.test_api_support import World, add_readings, client, fresh_pool, seed

# (method, path: {t} = target tenant, {inv} = its invoice id; JSON body; roles allowed or
# None = every role)
RESOURCES = [
    ("GET", "/api/v1/tenants/{t}", None, None),
    ("PATCH", "/api/v1/tenants/{t}", {"address": "1 Road"}, {"admin"}),
    ("GET", "/api/v1/sites/{t}-site", None, None),
    ("PATCH", "/api/v1/sites/{t}-site", {"kind": "substation"}, {"admin"}),
    ("GET", "/api/v1/devices/{t}-r1", None, None),
    ("PATCH", "/api/v1/devices/{t}-r1", {"name": "Robot"}, {"admin"}),
    ("POST", "/api/v1/devices/{t}-r1/credential", None, {"admin"}),
    ("GET", "/api/v1/devices/{t}-r1/telemetry", None, {"admin", "operator", "viewer"}),
    (
        "GET",
        "/api/v1/devices/{t}-r1/telemetry?resolution=1h",
        None,
        {"admin", "operator", "viewer"},
    ),
    ("GET", "/api/v1/devices/{t}-r1/telemetry.csv", None, {"admin", "operator", "viewer"}),
    ("GET", "/api/v1/billing/invoices/{inv}", None, {"admin", "finance", "viewer"}),
    ("GET", "/api/v1/billing/invoices/{inv}/pdf", None, {"admin", "finance", "viewer"}),
    # every role but the field-service ones (technician, customer)
    ("GET", "/api/v1/alerts/{alert}", None, {"admin", "operator", "finance", "viewer"}),
    ("POST", "/api/v1/alerts/{alert}/comments", {"body": "checked"}, {"admin", "operator"}),
    ("GET", "/api/v1/tenants/{t}/webhook", None, {"admin", "operator"}),
    (
        "PUT",
        "/api/v1/tenants/{t}/webhook",
        {"url": "https://h.example/x", "secret": "s" * 16},
        {"admin", "operator"},
    ),
]
Ctx = tuple[httpx.AsyncClient, World, dict[str, str]]


async def seed_alerts(c: httpx.AsyncClient, w: World, pool: Pool) -> dict[str, str]:
    """One open alert and a webhook per tenant; returns alert ids as 'alert:<tenant>'."""
    ids = {}
    for t in ("acme", "globex"):
        async with pool.acquire() as conn:
            ids[f"alert:{t}"] = str(
                await conn.fetchval(
                    """INSERT INTO alerts (tenant_id, site_id, device_id, rule, detector, metric,
                           severity, first_ts, last_ts)
                       VALUES ($1, $1 || '-site', $1 || '-r1', 'rule:hot', 'threshold',
                               'motor_temp_c', 'major', now(), now()) RETURNING id""",
                    t,
                )
            )
        hook = {"url": "https://h.example/x", "secret": "s" * 16}
        response = await c.put(f"/api/v1/tenants/{t}/webhook", json=hook, headers=w.headers())
        assert response.is_success, response.text
    return ids


async def seed_billing(c: httpx.AsyncClient, w: World) -> dict[str, str]:
    """A plan, a subscription per tenant and a billing run: one draft invoice per tenant."""
    h = w.headers("finance")
    plan = {"id": "basic", "name": "Basic", "pricing_model": "flat", "tiers": [{"unit_price": 1}]}
    assert (await c.put("/api/v1/billing/plans/basic", json=plan, headers=h)).is_success
    for t in ("acme", "globex"):
        sub = {
            "tenant_id": t,
            "plan_id": "basic",
            "start_date": "2026-01-01",
            "device_ids": [t + "-r1"],
        }
        assert (await c.post("/api/v1/billing/subscriptions", json=sub, headers=h)).is_success
    run = await c.post("/api/v1/billing/runs", json={"period": "2026-01"}, headers=h)
    assert run.is_success, run.text
    invoices = (await c.get("/api/v1/billing/invoices", headers=h)).json()
    return {i["tenant_id"]: str(i["id"]) for i in invoices}


@pytest.fixture(scope="module")
async def world(pg_server: str, template_db: str) -> AsyncIterator[Ctx]:
    async with fresh_pool(pg_server, template_db) as pool:
        seeded = await seed(pool)
        start = datetime.now(UTC) - timedelta(hours=1)
        for t in ("acme", "globex"):
            await add_readings(pool, f"{t}-r1", "motor_temp_c", start, [40.0, 41.0, 42.0])
        async with client(pool) as c:
            ids = await seed_billing(c, seeded)
            ids |= await seed_alerts(c, seeded, pool)
            yield c, seeded, ids


def expected(role: str, scope: str | None, target: str, allowed: set[str] | None) -> int:
    """403 for a role not allowed, then 404 for another tenant's object, else success."""
    if allowed is not None and role not in allowed:
        return 403
    if scope is not None and scope != target:
        return 404
    return 200


@pytest.mark.parametrize("target", ["acme", "globex"])
@pytest.mark.parametrize("scope", [None, "acme"], ids=["provider", "tenant"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), RESOURCES, ids=[f"{m} {p}" for m, p, _, _ in RESOURCES]
)
async def test_isolation_matrix(
    world: Ctx,
    method: str,
    path: str,
    body: dict[str, str] | None,
    allowed: set[str] | None,
    role: str,
    scope: str | None,
    target: str,
) -> None:
    c, w, ids = world
    url = path.format(t=target, inv=ids.get(target, "0"), alert=ids.get(f"alert:{target}", "0"))
    response = await c.request(method, url, json=body, headers=w.headers(role, scope))
    want = expected(role, scope, target, allowed)
    assert response.status_code == want or (want == 200 and response.is_success), response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert set(response.json()) <= {"type", "title", "status", "detail", "instance"}


LISTS = ["tenants", "sites", "devices", "alerts"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("resource", LISTS)
async def test_lists_show_only_own_tenant(world: Ctx, role: str, resource: str) -> None:
    c, w, _ = world
    if resource == "alerts" and role in ("technician", "customer"):
        # field-service roles follow work orders, not the alert list
        assert (await c.get("/api/v1/alerts", headers=w.headers(role, "acme"))).status_code == 403
        return
    own = await c.get(f"/api/v1/{resource}", headers=w.headers(role, "acme"))
    everyone = await c.get(f"/api/v1/{resource}", headers=w.headers(role, None))
    other = await c.get(
        f"/api/v1/{resource}", params={"tenant_id": "globex"}, headers=w.headers(role, "acme")
    )
    key = "id" if resource == "tenants" else "tenant_id"
    assert {i[key] for i in own.json()["items"]} == {"acme"}
    assert {i[key] for i in everyone.json()["items"]} == {"acme", "globex"}
    # Asking for another tenant's objects never yields them.
    assert {i[key] for i in other.json()["items"]} <= {"acme"}


async def test_tenant_admin_cannot_create_in_other_tenant(world: Ctx) -> None:
    c, w, _ = world
    h = w.headers("admin", "acme")
    site = {"id": "sneaky", "tenant_id": "globex", "name": "Sneaky"}
    device = {"id": "sneaky-1", "device_type_id": "pump-motor", "tenant_id": "globex"}
    key = {"role": "admin", "tenant_id": "globex"}
    assert (await c.post("/api/v1/sites", json=site, headers=h)).status_code == 404
    assert (await c.post("/api/v1/devices", json=device, headers=h)).status_code == 404
    assert (await c.post("/api/v1/keys", json=key, headers=h)).status_code == 404
    assert (
        await c.post("/api/v1/tenants", json={"id": "x", "name": "X"}, headers=h)
    ).status_code == 403
    own_key = (await c.post("/api/v1/keys", json={"role": "viewer"}, headers=h)).json()
    assert own_key["tenant_id"] == "acme"


@pytest.mark.parametrize("role", ["finance", "viewer"])
async def test_billing_lists_show_only_own_tenant(world: Ctx, role: str) -> None:
    c, w, _ = world
    own = (await c.get("/api/v1/billing/invoices", headers=w.headers(role, "acme"))).json()
    everyone = (await c.get("/api/v1/billing/invoices", headers=w.headers(role))).json()
    subs = (await c.get("/api/v1/billing/subscriptions", headers=w.headers(role, "acme"))).json()
    assert {i["tenant_id"] for i in own} == {"acme"}
    assert {i["tenant_id"] for i in everyone} == {"acme", "globex"}
    assert {s["tenant_id"] for s in subs} == {"acme"}
