"""Twins through the API (If-Match, 412) and a simulated device; command API roles and tenants."""

from __future__ import annotations

import json
from typing import Any

import aiomqtt

from servitize.db import Pool
from servitize.mqtturl import MqttUrl
from simulators.agent import DeviceAgent
from tests.integration.fleet_support import running_device, running_services
from tests.integration.ingest_support import eventually
from tests.integration.test_api_support import client, seed

TWIN = "/api/v1/fleet/devices/acme-r1/twin"


async def test_twin_applied_by_device_and_stale_version_refused(
    pool: Pool, broker_url: str
) -> None:
    world = await seed(pool)
    ops = world.headers("operator", "acme")
    agent = DeviceAgent("acme-r1")
    async with client(pool) as api, running_services(pool, broker_url) as fleet:
        first = await api.get(TWIN, headers=ops)
        assert first.status_code == 200 and first.headers["etag"] == '"0"'
        body = {"desired": {"reporting_interval_s": 30, "camera": "ir"}}
        ok = await api.patch(TWIN, json=body, headers=ops | {"If-Match": '"0"'})
        assert ok.status_code == 200 and ok.json()["desired_version"] == 1
        stale = await api.patch(TWIN, json={"desired": {"camera": "rgb"}},
                                headers=ops | {"If-Match": '"0"'})  # fmt: skip
        assert stale.status_code == 412
        assert stale.headers["content-type"] == "application/problem+json"
        async with running_device(broker_url, agent):

            async def applied() -> bool:
                twin = (await api.get(TWIN, headers=ops)).json()
                return bool(twin["reported_version"] == 1 and twin["delta"] == {})

            await eventually(applied)
            # A report older than the one applied is refused and changes nothing.
            await fleet.handle("devices/acme-r1/twin/reported", b'{"version":0,"reported":{}}')
        url = MqttUrl.parse(broker_url)
        async with aiomqtt.Client(url.host, url.port) as late:
            await late.subscribe("devices/acme-r1/twin/delta", qos=1)
            retained = await anext(aiter(late.messages))
    twin = await api_get(pool, ops)
    assert twin["reported"] == {"reporting_interval_s": 30, "camera": "ir",
                                "firmware_version": "1.0.0"}  # fmt: skip
    assert twin["reported_version"] == 1 and twin["desired"]["camera"] == "ir"
    assert agent.reporting_interval_s == 30.0
    assert isinstance(retained.payload, bytes)
    assert json.loads(retained.payload)["version"] == 1


async def api_get(pool: Pool, headers: dict[str, str]) -> dict[str, Any]:
    async with client(pool) as api:
        body: dict[str, Any] = (await api.get(TWIN, headers=headers)).json()
        return body


async def test_command_api_roles_and_tenants(pool: Pool) -> None:
    world = await seed(pool)
    async with client(pool) as api:
        url = "/api/v1/fleet/devices/globex-r1/commands"
        made = await api.post(url, json={"name": "dock"}, headers=world.headers("operator"))
        assert made.status_code == 201 and made.json()["state"] == "QUEUED"
        cid = made.json()["id"]
        assert made.json()["events"][0]["to_state"] == "QUEUED"
        acme_ops = world.headers("operator", "acme")
        assert (await api.post(url, json={"name": "dock"}, headers=acme_ops)).status_code == 404
        assert (await api.get(f"/api/v1/fleet/commands/{cid}", headers=acme_ops)).status_code == 404
        listed = await api.get("/api/v1/fleet/commands", headers=acme_ops)
        assert listed.json()["items"] == []
        viewer = world.headers("viewer", "acme")
        own = "/api/v1/fleet/devices/acme-r1/commands"
        assert (await api.post(own, json={"name": "dock"}, headers=viewer)).status_code == 403
        bad = await api.post(own, json={"name": "Bad Name"}, headers=acme_ops)
        assert bad.status_code == 422
        cancel = await api.post(f"/api/v1/fleet/commands/{cid}/cancel",
                                headers=world.headers("operator"))  # fmt: skip
        assert cancel.json()["state"] == "CANCELED"
        again = await api.post(f"/api/v1/fleet/commands/{cid}/cancel",
                               headers=world.headers("operator"))  # fmt: skip
        assert again.status_code == 409
