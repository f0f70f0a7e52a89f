"""Kernel subcommands: migrate and doctor."""

from __future__ import annotations

import argparse
import asyncio
import socket

import aiomqtt

from ingest.session import doctor_check
from servitize import db, migrate
from servitize.jobs import timescale_jobs
from servitize.mqtturl import MqttUrl
from servitize.settings import get_settings
from servitize.storage import active_path, timescale_version

# How long the doctor waits for the broker to accept a connection and an MQTT login.
BROKER_TIMEOUT_S = 3.0


def migrate_command(p: argparse.ArgumentParser) -> None:
    """`servitize migrate`: its arguments and handler."""
    p.set_defaults(handler=_migrate)


def doctor_command(p: argparse.ArgumentParser) -> None:
    """`servitize doctor`: its arguments and handler."""
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
    """Checks as (name, ok, detail) rows; a BAD row says why and what to do."""
    settings = get_settings()
    try:
        rows = await _database_rows(db.database_url(settings))
    except db.ConfigError as exc:
        rows = [("database", False, str(exc))]
    rows.append(await _broker_row(settings.mqtt_url))
    rows.append(doctor_check(settings.ingest_group, settings.ingest_allow_mosquitto_share))
    return rows


async def _database_rows(url: str) -> list[tuple[str, bool, str]]:
    conn = await db.connect(url)
    try:
        version = await conn.fetchval("SHOW server_version")
        rows = [("database", True, f"PostgreSQL {version}")]
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
    return rows


async def _broker_row(mqtt_url: str | None) -> tuple[str, bool, str]:
    if not mqtt_url:
        return ("broker", False, "SERVITIZE_MQTT_URL is not set; point it at the MQTT broker")
    try:
        broker = MqttUrl.parse(mqtt_url)
    except ValueError as exc:
        return ("broker", False, f"SERVITIZE_MQTT_URL is malformed: {exc}")
    why = await broker_problem(broker)
    if why is None:
        return ("broker", True, str(broker))
    return ("broker", False, f"{broker}: {why}")


async def broker_problem(broker: MqttUrl) -> str | None:
    """Why the broker cannot be used (no TCP answer, or it refuses the login); None if it can."""
    try:
        async with asyncio.timeout(BROKER_TIMEOUT_S):
            _, writer = await asyncio.open_connection(broker.host, broker.port)
            writer.close()
            async with aiomqtt.Client(
                broker.host, broker.port, username=broker.username, password=broker.password
            ):
                pass
    except TimeoutError:
        why = f"no answer within {BROKER_TIMEOUT_S:g} s"
    except socket.gaierror as exc:
        why = f"host {broker.host!r} does not resolve ({exc.strerror})"
    except OSError as exc:
        why = f"cannot connect ({exc.strerror or exc})"
    except aiomqtt.MqttError as exc:
        return f"refuses the MQTT login ({exc}); check the user and password in SERVITIZE_MQTT_URL"
    else:
        return None
    return f"{why}; start the broker or fix the host and port in SERVITIZE_MQTT_URL"


async def _doctor(args: argparse.Namespace) -> int:
    rows = await doctor_report()
    for name, ok, detail in rows:
        print(f"{'ok ' if ok else 'BAD'} {name:<13} {detail}")
    return 0 if all(ok for _, ok, _ in rows) else 1
