"""SQL for usage reported through the API (billing_usage_records). Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

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
    conn: Connection, spans: list[tuple[int, str, datetime, datetime]], types: list[str]
) -> dict[tuple[int, str], int]:
    """Reported quantity per (subscription, type) with `ts` in (subscription, device, from,
    until) spans of covered time."""
    rows = await conn.fetch(
        """SELECT c.sub_id, r.usage_type, sum(r.quantity)::bigint AS n
           FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[])
                AS c(sub_id, device_id, t0, t1)
           JOIN billing_usage_records r
             ON r.device_id = c.device_id AND r.usage_type = ANY($5::text[])
            AND r.ts >= c.t0 AND r.ts < c.t1
           GROUP BY c.sub_id, r.usage_type""",
        *([s[k] for s in spans] for k in range(4)),
        types,
    )
    return {(r["sub_id"], r["usage_type"]): r["n"] for r in rows}
