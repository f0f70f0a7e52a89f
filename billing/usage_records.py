"""Usage reported through the API, idempotent by the sender's event id.

A record names its tenant, device, usage type, quantity and device timestamp; it is billed
like a device event of that type (in the device's covered time, against the plan's usage
price). A retried report stores nothing twice: a known event id with the same content is a
duplicate; with other content it is a conflict, reported and not stored.
"""

from __future__ import annotations

from typing import Any

from billing import usage_record_repository as record_repo
from billing.errors import BillingError
from billing.invoice_schemas import UsageBatchIn, UsageBatchOut
from registry import service as registry
from servitize.db import Pool, transaction


async def report(pool: Pool, batch: UsageBatchIn) -> UsageBatchOut:
    """Store a batch of usage records; which were new, duplicates, or conflicts."""
    rows = [
        (r.tenant_id, r.event_id, r.device_id, r.usage_type, r.quantity, r.ts)
        for r in batch.records
    ]
    if len({(r[0], r[1]) for r in rows}) != len(rows):
        raise BillingError("records: an event id appears twice in one batch")
    async with transaction(pool) as conn:
        await _check_devices(conn, rows)
        new = await record_repo.insert(conn, rows)
        old = {
            (r["tenant_id"], r["event_id"]): tuple(r.values())
            for r in await record_repo.existing(
                conn, [(r[0], r[1]) for r in rows if (r[0], r[1]) not in new]
            )
        }
    conflicts = [r[1] for r in rows if (r[0], r[1]) in old and old[(r[0], r[1])] != r]
    return UsageBatchOut(
        accepted=len(new), duplicates=len(old) - len(conflicts), conflicts=conflicts
    )


async def _check_devices(conn: Any, rows: list[tuple[Any, ...]]) -> None:
    by_tenant: dict[str, set[str]] = {}
    for r in rows:
        by_tenant.setdefault(r[0], set()).add(r[2])
    for tenant, devices in sorted(by_tenant.items()):
        if bad := await registry.foreign_devices(conn, tenant, sorted(devices)):
            raise BillingError(
                f"devices {bad} do not exist or belong to another tenant than {tenant}"
            )
