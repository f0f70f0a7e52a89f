"""The `servitize` command: every subcommand is wired here, by name, to its domain's cli module."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
from collections.abc import Callable, Sequence

from analytics import cli as analytics_cli
from analytics.evaluation import cli as evaluation_cli
from api import cli as api_cli
from billing import cli as billing_cli
from console import cli as console_cli
from fieldservice import cli as fieldservice_cli
from fleet import cli as fleet_cli
from ingest import cli as ingest_cli
from registry import cli as registry_cli
from servitize import commands, demo
from servitize.db import ConfigError
from servitize.log import setup_logging
from servitize.migrate import NotMigratedError
from servitize.settings import get_settings
from simulators import cli as simulators_cli

# A domain function that adds a subcommand's arguments and sets `handler`: a function taking
# (args) and returning an exit code, or a coroutine that does.
Configure = Callable[[argparse.ArgumentParser], None]

COMMANDS: tuple[tuple[str, str, Configure], ...] = (
    ("migrate", "apply database migrations (idempotent)", commands.migrate_command),
    ("doctor", "check database, schema, storage path and broker", commands.doctor_command),
    (
        "registry",
        "manage tenants, device types, devices, broker auth",
        registry_cli.registry_command,
    ),
    ("ingest", "consume device MQTT messages into the database", ingest_cli.ingest_command),
    (
        "simulate",
        "simulate devices: real time, accelerated, offline, fleet",
        simulators_cli.simulate_command,
    ),
    (
        "detect",
        "judge the ingest feed and raise alerts (or replay history)",
        analytics_cli.detect_command,
    ),
    (
        "score",
        "score a CSV: per-row anomaly state (last column) and scores",
        analytics_cli.score_command,
    ),
    ("train", "train the multivariate model of a device type", evaluation_cli.train_command),
    (
        "evaluate",
        "score the detectors on NAB or simulator ground truth",
        evaluation_cli.evaluate_command,
    ),
    ("bill", "create or regenerate draft invoices for a month", billing_cli.bill_command),
    ("billing", "plans, subscriptions, invoices and finance reports", billing_cli.billing_command),
    ("api", "serve the operator and finance HTTP API", api_cli.api_command),
    ("keys", "manage API keys", api_cli.keys_command),
    ("fleet", "device commands, twins, firmware packages, campaigns", fleet_cli.fleet_command),
    ("console", "manage the browser console's users", console_cli.console_command),
    (
        "service",
        "field service: work orders, technicians, contracts, parts",
        fieldservice_cli.service_command,
    ),
    ("demo", "run the whole system with embedded services", demo.demo_command),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="servitize", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text, configure in COMMANDS:
        configure(sub.add_parser(name, help=text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    settings = get_settings()
    setup_logging(settings.log_level)
    args = build_parser().parse_args(argv)
    try:
        result = args.handler(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except (ConfigError, NotMigratedError) as exc:
        print(f"servitize: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
