"""`servitize fleet ...`: run the fleet runtime, send commands, set twins, packages, campaigns."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fleet import campaign_cli, service, twin_service
from fleet.download import download_secret
from fleet.models import NewCommand, RetryPolicy, Transfer
from fleet.output import run_and_print
from fleet.runtime import FleetConfig, FleetRuntime
from ingest.cli import stop_on_signals
from servitize import db, startup
from servitize.db import Pool
from servitize.mqtturl import MqttUrl
from servitize.settings import get_settings


def fleet_command(fleet: argparse.ArgumentParser) -> None:
    """`servitize fleet`: its subcommands, their arguments and handlers."""
    cmds = fleet.add_subparsers(dest="fleet_command", required=True, metavar="ACTION")
    p = cmds.add_parser("run", help="send due commands and twin deltas, consume device replies")
    p.add_argument("--client-id", help="MQTT client id (persistent session)")
    p.set_defaults(handler=_run)
    p = cmds.add_parser("send", help="queue a command for a device")
    p.add_argument("device_id")
    p.add_argument("name")
    p.add_argument("--params", default="{}", help="JSON object of parameters")
    p.add_argument("--expires-in", type=float, help="seconds after which it is never delivered")
    p.set_defaults(handler=_send)
    p = cmds.add_parser("command", help="show a command and its transitions")
    p.add_argument("command_id")
    p.set_defaults(handler=_show)
    p = cmds.add_parser("twin", help="show a device twin, or merge desired settings")
    p.add_argument("device_id")
    p.add_argument("--set", default=None, help="JSON object merged into desired")
    p.add_argument("--if-match", type=int, help="refuse unless desired is at this version")
    p.set_defaults(handler=_twin)
    campaign_cli.register(cmds)


def params_of(text: str) -> dict[str, Any]:
    """A JSON object argument, or a one-line error."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"servitize: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SystemExit("servitize: expected a JSON object")
    return value


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not settings.mqtt_url:
        raise db.ConfigError("SERVITIZE_MQTT_URL is not set (e.g. mqtt://127.0.0.1:1883)")
    config = FleetConfig(
        mqtt=MqttUrl.parse(settings.mqtt_url),
        client_id=args.client_id or settings.fleet_client_id,
        tick_s=settings.fleet_tick_s,
        retry=RetryPolicy(settings.fleet_retry_base_s, settings.fleet_retry_cap_s),
        transfer=Transfer(
            chunk_bytes=settings.fleet_chunk_bytes,
            download_secret=download_secret(settings),
            download_ttl_s=settings.fleet_download_ttl_s,
        ),
    )
    pool = await startup.service_pool(f"fleet {config.client_id}", max_size=4)
    try:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await FleetRuntime(pool, config).run(stop)
    finally:
        await pool.close()
    return 0


async def _send(args: argparse.Namespace) -> int:
    expires = None
    if args.expires_in is not None:
        expires = datetime.now(UTC) + timedelta(seconds=args.expires_in)
    cmd = NewCommand(
        device_id=args.device_id, name=args.name, params=params_of(args.params), expires_at=expires
    )

    async def send(pool: Pool) -> dict[str, Any]:
        tenant = await service.device_tenant(pool, cmd.device_id)
        if tenant is None:
            raise service.NotFound(f"device {cmd.device_id} not found")
        return await service.queue(pool, cmd, tenant, "cli")

    return await run_and_print("fleet send", send)


async def _show(args: argparse.Namespace) -> int:
    return await run_and_print("fleet command", lambda p: service.get(p, args.command_id, None))


async def _twin(args: argparse.Namespace) -> int:
    if args.set is None:
        return await run_and_print(
            "fleet twin", lambda p: twin_service.get(p, args.device_id, None)
        )
    patch = params_of(args.set)
    return await run_and_print("fleet twin", lambda p: twin_service.update_desired(
        p, args.device_id, None, patch, args.if_match, "cli"))  # fmt: skip
