"""Kernel subcommands: migrate and doctor."""

from __future__ import annotations

import argparse
from typing import Any

from ingest.session import doctor_check
from servitize import db, migrate
from servitize.infra import port_open
from servitize.jobs import timescale_jobs
from servitize.mqtturl import MqttUrl
from servitize.settings import get_settings
from servitize.storage import active_path, timescale_version


def register(sub: Any) -> None:
    """Add `migrate` and `doctor`."""
    p = sub.add_parser("migrate", help="apply database migrations (idempotent)")
    p.set_defaults(handler=_migrate)
    p = sub.add_parser("doctor", help="check database, schema, storage path and broker")
    p.set_defaults(handler=_doctor)


async def _migrate(args: argparse.Namespace) -> int:
    settings = get_settings()
    conn = await db.connect(db.database_url(settings))
    try:
        ran = await migrate.migrate(conn, settings)
        path = await active_path(conn)
    finally:
        await conn.close()
    print(f"migrations applied: {ran or 'none (up to date)'}; storage path: {path.value}")
    return 0


async def doctor_report() -> list[tuple[str, bool, str]]:
    """Checks as (name, ok, detail) rows."""
    settings = get_settings()
    rows: list[tuple[str, bool, str]] = []
    conn = await db.connect(db.database_url(settings))
    try:
        version = await conn.fetchval("SHOW server_version")
        rows.append(("database", True, f"PostgreSQL {version}"))
        have, want = await migrate.schema_version(conn), migrate.latest_version()
        rows.append(("schema", have >= want, f"version {have}, code needs {want}"))
        if have:
            path = await active_path(conn)
            ts = await timescale_version(conn)
            detail = f"{path.value}" + (f" (timescaledb {ts})" if ts else "")
            rows.append(("storage path", True, detail))
            rows += [(f"job {j.job_id}", j.ok, j.describe()) for j in await timescale_jobs(conn)]
    finally:
        await conn.close()
    if settings.mqtt_url:
        broker = MqttUrl.parse(settings.mqtt_url)
        ok = port_open(broker.host, broker.port)
        rows.append(("broker", ok, str(broker)))
    else:
        rows.append(("broker", False, "SERVITIZE_MQTT_URL is not set"))
    rows.append(doctor_check(settings.ingest_group, settings.ingest_allow_mosquitto_share))
    return rows


async def _doctor(args: argparse.Namespace) -> int:
    rows = await doctor_report()
    for name, ok, detail in rows:
        print(f"{'ok ' if ok else 'BAD'} {name:<13} {detail}")
    return 0 if all(ok for _, ok, _ in rows) else 1
