"""SQL for usage reported through the API (billing_usage_records). Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from billing.usage_repository import COVERED
from servitize.db import Connection

_COLUMNS = ("tenant_id", "event_id", "device_id", "usage_type", "quantity", "ts")


async def insert(conn: Connection, rows: list[tuple[Any, ...]]) -> set[tuple[str, str]]:
    """Store records not stored before; the (tenant, event id) pairs that were new."""
    cols = [list(c) for c in zip(*rows, strict=True)]
    stored = await conn.fetch(
        f"""INSERT INTO billing_usage_records ({", ".join(_COLUMNS)})
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                                 $6::timestamptz[])
            ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING tenant_id, event_id""",
        *cols,
    )
    return {(r["tenant_id"], r["event_id"]) for r in stored}


async def existing(conn: Connection, keys: list[tuple[str, str]]) -> list[asyncpg.Record]:
    """Stored records with these (tenant, event id) keys."""
    return await conn.fetch(
        f"""SELECT {", ".join(_COLUMNS)} FROM billing_usage_records r
            JOIN unnest($1::text[], $2::text[]) AS k(t, e)
              ON r.tenant_id = k.t AND r.event_id = k.e""",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )


async def usage_sums(
    conn: Connection,
    first: date,
    next_first: date,
    tenant_ids: list[str] | None,
    types: list[str],
) -> dict[tuple[int, str], int]:
    """Reported quantity per (subscription, type) with `ts` in each device's covered time."""
    rows = await conn.fetch(
        f"""WITH {COVERED}
            SELECT cov.sub_id, r.usage_type, sum(r.quantity)::bigint AS n
            FROM cov JOIN billing_usage_records r
              ON r.device_id = cov.device_id AND r.usage_type = ANY($4::text[])
             AND r.ts >= cov.t0 AND r.ts < cov.t1
            WHERE cov.t1 > cov.t0
            GROUP BY cov.sub_id, r.usage_type""",
        first,
        next_first,
        tenant_ids,
        types,
    )
    return {(r["sub_id"], r["usage_type"]): r["n"] for r in rows}
