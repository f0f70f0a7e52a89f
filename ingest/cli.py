"""`servitize ingest`: run one ingest process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from ingest.rollup import run_upkeep
from ingest.service import IngestConfig, IngestService
from servitize import db, startup
from servitize.settings import get_settings

log = logging.getLogger(__name__)


def ingest_command(p: argparse.ArgumentParser) -> None:
    """`servitize ingest`: its arguments and handler."""
    p.add_argument(
        "--client-id", help="MQTT client id (default and required: the MQTT username, if any)"
    )
    p.add_argument(
        "--group", help="shared subscription group (default '': not shared; docs/ingest.md)"
    )
    p.set_defaults(handler=_run)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set `stop` on SIGINT/SIGTERM so the process drains and exits cleanly."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.client_id:
        settings = settings.model_copy(update={"ingest_client_id": args.client_id})
    if args.group is not None:
        settings = settings.model_copy(update={"ingest_group": args.group})
    if not settings.mqtt_url:
        raise db.ConfigError("SERVITIZE_MQTT_URL is not set (e.g. mqtt://127.0.0.1:1883)")
    config = IngestConfig.from_settings(settings, settings.mqtt_url)
    pool = await startup.service_pool(f"ingest {config.client_id}", max_size=4)
    try:
        if settings.ingest_metrics_port:
            from prometheus_client import start_http_server

            start_http_server(settings.ingest_metrics_port, addr="127.0.0.1")
        stop = asyncio.Event()
        stop_on_signals(stop)
        service = IngestService(pool, config)
        upkeep = run_upkeep(
            pool, stop, settings.rollup_interval_s, settings.telemetry_retention_days
        )
        await asyncio.gather(service.run(stop), upkeep)
    finally:
        await pool.close()
    return 0
