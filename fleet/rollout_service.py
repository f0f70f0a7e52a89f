"""The rollout tick and device update reports.

The tick runs in the fleet runtime: it times out silent devices, asks the pure gate
(fleet/rollout.py) what to do, and starts devices by queueing a `firmware_update` command,
so a device offline during its wave is notified when it comes back, through the command
pipeline (ordered, retried, audited).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from fleet import campaign_repository as repo
from fleet import package_service, service, tokens
from fleet.campaign_service import (
    audit_update,
    campaign_targets,
    eligible,
    move_campaign,
    plan_of,
)
from fleet.models import NewCommand, Transfer
from fleet.rollout import Action, Decision, Progress, decide, in_window
from fleet.states import TransitionError, UpdateState, check_update
from registry import service as registry
from servitize.db import Connection, Pool, transaction

U = UpdateState
HELD = "held: critical alert"
Filter = Callable[[list[str]], Awaitable[set[str]]]


async def tick(pool: Pool, now: datetime, reachable: Filter, held: Filter, how: Transfer) -> int:
    """One step of every running campaign; returns how many devices were started."""
    async with pool.acquire() as conn:
        ids = await repo.running(conn)
    started = 0
    for campaign_id in ids:
        started += await _step(pool, campaign_id, now, reachable, held, how)
    return started


async def _step(
    pool: Pool, campaign_id: str, now: datetime, reachable: Filter, held: Filter, how: Transfer
) -> int:
    async with transaction(pool) as conn:
        c = await repo.get(conn, campaign_id, lock=True)
        if c is None or c["state"] != "RUNNING":
            return 0
        for u in await repo.overdue(conn, campaign_id, now):
            await _set(conn, u, U.FAILED, "fleet", reason="timed out: device silent", deadline=None)
        if c["continuous"]:
            await _join_newcomers(conn, pool, c)
        decision = decide(plan_of(c), await _progress(conn, c, now))
        if decision.action is not Action.START:
            await _conclude(conn, c, decision)
            return 0
        return await _start(conn, pool, c, decision.start, now, reachable, held, how)


async def _progress(conn: Connection, c: Any, now: datetime) -> Progress:
    counts = await repo.progress(conn, c["id"], c["stage"], now - timedelta(minutes=1))
    return Progress(stage=c["stage"], last_stage=len(c["waves"]), **dict(counts))


async def _join_newcomers(conn: Connection, pool: Pool, c: Any) -> None:
    """A continuous campaign takes devices that joined the target since, into its last wave."""
    package = await package_service.get(pool, c["package_id"])
    known = {u["device_id"] for u in await repo.updates(conn, c["id"], None)}
    targets = await campaign_targets(conn, dict(c), package["device_type_id"])
    new = [
        d for d in targets
        if d["id"] not in known and eligible(d["version"], c["from_version"], package)
    ]  # fmt: skip
    if new:
        stage = len(c["waves"])
        await repo.insert_updates(
            conn, c["id"], [(d["id"], d["tenant_id"], stage, d["version"]) for d in new]
        )


async def _conclude(conn: Connection, c: Any, d: Decision) -> None:
    if d.action is Action.DONE and c["continuous"]:
        return  # stays RUNNING, waiting for devices that join later
    if d.action is Action.ADVANCE and not c["require_approval"]:
        await repo.set_campaign(conn, c["id"], stage=c["stage"] + 1, reason=d.reason)
        return
    if d.action is Action.ABORT:
        for u in await repo.cancel_queued(conn, c["id"]):
            await audit_update(conn, u, "QUEUED", "CANCELED", "fleet", reason="campaign aborted")
    new = {Action.ABORT: "ABORTED", Action.DONE: "SUCCEEDED"}.get(d.action, "WAITING_APPROVAL")
    await move_campaign(conn, c, new, "fleet", reason=d.reason)


async def _start(
    conn: Connection, pool: Pool, c: Any, n: int, now: datetime, reachable: Filter,
    held: Filter, how: Transfer,
) -> int:  # fmt: skip
    queued = await repo.startable(conn, c["id"], c["stage"])
    if n <= 0 or not queued:
        return 0
    online = await reachable([u["device_id"] for u in queued])
    package = await package_service.get(pool, c["package_id"])
    zones: dict[str, str] = {}
    started = 0
    for u in queued:
        if started >= n or u["device_id"] not in online:
            continue
        if not in_window(now, await _zone(pool, zones, u["tenant_id"]), *_window(c)):
            continue
        # Asked only for devices about to start: a held one is asked again next tick.
        if await held([u["device_id"]]):
            if u["reason"] != HELD:
                await repo.set_update(conn, c["id"], u["device_id"], reason=HELD)
            continue
        await _notify(conn, c, u, package, how, now)
        await _set(conn, u, U.NOTIFIED, "fleet", started_at=now, reason=None,
                   deadline=now + timedelta(seconds=c["timeout_s"]))  # fmt: skip
        started += 1
    return started


def _window(c: Any) -> tuple[Any, Any]:
    return c["window_start"], c["window_end"]


async def _zone(pool: Pool, cache: dict[str, str], tenant_id: str) -> str:
    if tenant_id not in cache:
        async with pool.acquire() as conn:
            zones = await registry.tenant_timezones(conn, [tenant_id])
        cache[tenant_id] = zones.get(tenant_id, "UTC")
    return cache[tenant_id]


async def _notify(
    conn: Connection, c: Any, u: Any, package: dict[str, Any], how: Transfer, now: datetime
) -> None:
    params = {k: package[k] for k in ("version", "size", "sha256", "signature")}
    params |= {"campaign_id": c["id"], "package_id": package["id"],
               "chunk_bytes": how.chunk_bytes,
               "chunks": package_service.chunk_count(package["size"], how.chunk_bytes)}  # fmt: skip
    if how.download_secret is not None:  # the HTTP alternative, with Range
        expires = now + timedelta(seconds=how.download_ttl_s)
        token = tokens.make(how.download_secret, u["device_id"], c["id"], expires)
        params["download"] = {"path": f"/api/v1/fleet/downloads/{token}",
                              "expires_at": expires.isoformat()}  # fmt: skip
    cmd = NewCommand(device_id=u["device_id"], name="firmware_update", params=params,
                     timeout_s=c["timeout_s"])  # fmt: skip
    await service.queue_in(conn, cmd, u["tenant_id"], f"campaign:{c['id']}")


async def _set(conn: Connection, u: Any, new: UpdateState, actor: str, **cols: Any) -> None:
    old = UpdateState(u["state"])
    check_update(old, new)
    await repo.set_update(conn, u["campaign_id"], u["device_id"], state=new.value, **cols)
    detail = {k: v for k, v in cols.items() if k in ("reason", "progress")}
    await audit_update(conn, u, old.value, new.value, actor, **detail)


async def apply_report(pool: Pool, device_id: str, body: dict[str, Any], now: datetime) -> bool:
    """A device's update state; UPDATED only with the package's version after the reboot."""
    try:
        new, campaign_id = UpdateState(str(body.get("state"))), str(body.get("campaign_id"))
    except ValueError:
        raise ValueError(f"unknown update state {body.get('state')!r}") from None
    async with transaction(pool) as conn:
        u = await repo.active_update(conn, device_id, campaign_id)
        if u is None:
            return False
        cols: dict[str, Any] = {"deadline": None if new.finished else _deadline(u, now)}
        cols["reason"] = str(body["reason"])[:500] if body.get("reason") else None
        if isinstance(body.get("progress"), int | float):
            cols["progress"] = float(body["progress"])
        if new is U.UPDATED:
            package = await package_service.get(pool, u["package_id"])
            if body.get("version") != package["version"]:
                new, cols["reason"] = U.FAILED, f"came back with version {body.get('version')}"
        try:
            await _set(conn, u, new, f"device:{device_id}", **cols)
        except TransitionError:
            return False
    return True


def _deadline(u: Any, now: datetime) -> datetime:
    """A report proves the device alive: the in-progress timeout starts again."""
    started, deadline = u["started_at"], u["deadline"]
    window = (deadline - started) if started and deadline else timedelta(minutes=30)
    return now + window


async def targeted_package(pool: Pool, device_id: str, campaign_id: str) -> dict[str, Any] | None:
    """The package a device may fetch: only one it has an unfinished update for."""
    async with pool.acquire() as conn:
        u = await repo.active_update(conn, device_id, campaign_id)
    return None if u is None else await package_service.get(pool, u["package_id"])
