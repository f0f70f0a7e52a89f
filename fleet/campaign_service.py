"""Campaign use cases: create (targets split into stages), read, and operator control."""

from __future__ import annotations

from typing import Any

from fleet import campaign_repository as repo
from fleet import package_service
from fleet import repository as audit
from fleet import twin_repository as twins
from fleet.rollout import Plan
from fleet.service import Conflict, NotFound
from registry import service as registry
from servitize.db import Connection, Pool, transaction

PLAN_FIELDS = ("canary", "success_pct", "abort_failure_pct", "min_finished", "rate_per_min")


def plan_of(c: Any) -> Plan:
    """The rollout plan of a campaign row."""
    return Plan(waves=tuple(c["waves"]), **{k: c[k] for k in PLAN_FIELDS})


async def create(pool: Pool, spec: dict[str, Any], actor: str) -> dict[str, Any]:
    """Create a RUNNING campaign over the package's device type and the spec's filters."""
    package = await package_service.get(pool, spec["package_id"])
    plan = Plan(waves=tuple(spec["waves"]), **{k: spec[k] for k in PLAN_FIELDS})
    async with transaction(pool) as conn:
        if await repo.get(conn, spec["id"]) is not None:
            raise Conflict(f"campaign {spec['id']} already exists")
        devices = [d for d in await campaign_targets(conn, spec, package["device_type_id"])
                   if eligible(d["version"], spec.get("from_version"), package)]  # fmt: skip
        if not devices:
            raise ValueError("no device matches the campaign's target")
        row = await repo.insert(conn, spec | {"created_by": actor})
        stages = [s for s, n in enumerate(plan.stage_sizes(len(devices))) for _ in range(n)]
        await repo.insert_updates(
            conn, row["id"], [(d["id"], d["tenant_id"], s, d["version"])
                              for d, s in zip(devices, stages, strict=True)],
        )  # fmt: skip
        await audit.insert_event(conn, "campaign", row, None, "RUNNING", actor)
    return await get(pool, spec["id"], None)


async def campaign_targets(
    conn: Connection, c: dict[str, Any], device_type: str
) -> list[dict[str, Any]]:
    """Enabled devices of the type matching the tenant and site filters, in id order, with
    the firmware version they last reported (registry for the devices, twins for versions)."""
    placed = sorted(
        p for p in await registry.device_placements(conn, None)
        if p[3] == device_type and c["tenant_id"] in (None, p[1]) and c["site_id"] in (None, p[2])
    )  # fmt: skip
    enabled = set(await registry.registered(conn, [p[0] for p in placed], enabled_only=True))
    versions = await twins.versions_of(conn, sorted(enabled), "firmware_version")
    return [{"id": p[0], "tenant_id": p[1], "version": versions.get(p[0])}
            for p in placed if p[0] in enabled]  # fmt: skip


def eligible(version: str | None, wanted: str | None, package: dict[str, Any]) -> bool:
    """Whether a device at `version` is to get the package (filters and compatibility)."""
    if version == package["version"] or (wanted is not None and version != wanted):
        return False
    return not package["from_versions"] or version in package["from_versions"]


async def get(pool: Pool, campaign_id: str, tenant_id: str | None) -> dict[str, Any]:
    """A campaign with its updates (a tenant sees its own devices' updates only)."""
    async with pool.acquire() as conn:
        row = await repo.get(conn, campaign_id)
        updates = [] if row is None else await repo.updates(conn, campaign_id, tenant_id)
    if row is None or (tenant_id is not None and not updates):
        raise NotFound(f"campaign {campaign_id} not found")
    counts: dict[str, int] = {}
    for u in updates:
        counts[u["state"]] = counts.get(u["state"], 0) + 1
    return dict(row) | {"counts": counts, "updates": [dict(u) for u in updates]}


async def list_campaigns(pool: Pool, tenant_id: str | None) -> list[dict[str, Any]]:
    """Campaigns newest first."""
    async with pool.acquire() as conn:
        return [dict(r) for r in await repo.list_campaigns(conn, tenant_id)]


async def control(
    pool: Pool, campaign_id: str, action: str, tenant_id: str | None, actor: str
) -> dict[str, Any]:
    """pause, resume (also approves a held stage), cancel or retry_failed."""
    if tenant_id is not None:
        raise NotFound(f"campaign {campaign_id} not found")  # tenants watch, the provider acts
    async with transaction(pool) as conn:
        row = await repo.get(conn, campaign_id, lock=True)
        if row is None:
            raise NotFound(f"campaign {campaign_id} not found")
        await _CONTROLS[action](conn, row, actor)
    return await get(pool, campaign_id, None)


async def move_campaign(conn: Connection, row: Any, new: str, actor: str, **cols: Any) -> None:
    await repo.set_campaign(conn, row["id"], state=new, **cols)
    await audit.insert_event(conn, "campaign", row, row["state"], new, actor, **cols)


async def _pause(conn: Connection, row: Any, actor: str) -> None:
    if row["state"] != "RUNNING":
        raise Conflict(f"campaign is {row['state']}, not RUNNING")
    await move_campaign(conn, row, "PAUSED", actor)


async def _resume(conn: Connection, row: Any, actor: str) -> None:
    if row["state"] not in ("PAUSED", "WAITING_APPROVAL"):
        raise Conflict(f"campaign is {row['state']}: only a paused or held one resumes")
    # From WAITING_APPROVAL the operator approves the next stage.
    extra = {"stage": row["stage"] + 1} if row["state"] == "WAITING_APPROVAL" else {}
    await move_campaign(conn, row, "RUNNING", actor, **extra)


async def _cancel(conn: Connection, row: Any, actor: str) -> None:
    if row["state"] in ("SUCCEEDED", "ABORTED", "CANCELED"):
        raise Conflict(f"campaign is already {row['state']}")
    for u in await repo.cancel_queued(conn, row["id"]):
        await audit_update(conn, u, "QUEUED", "CANCELED", actor)
    await move_campaign(conn, row, "CANCELED", actor)


async def _retry_failed(conn: Connection, row: Any, actor: str) -> None:
    if row["state"] in ("CANCELED",):
        raise Conflict("campaign is CANCELED")
    for u in await repo.updates(conn, row["id"], None):
        if u["state"] in ("FAILED", "ROLLED_BACK"):
            await repo.set_update(conn, row["id"], u["device_id"], state="QUEUED", reason=None,
                                  started_at=None, deadline=None, progress=0.0)  # fmt: skip
            await audit_update(conn, u, u["state"], "QUEUED", actor)
    await move_campaign(conn, row, "RUNNING", actor)


_CONTROLS = {"pause": _pause, "resume": _resume, "cancel": _cancel, "retry_failed": _retry_failed}


async def audit_update(conn: Connection, u: Any, old: str, new: str, actor: str, **d: Any) -> None:
    subject = {"id": f"{u['campaign_id']}:{u['device_id']}", "tenant_id": u["tenant_id"],
               "device_id": u["device_id"]}  # fmt: skip
    await audit.insert_event(conn, "update", subject, old, new, actor, **d)
