"""The `servitize` command: one subcommand per part, each registered by its domain's cli module."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Sequence

from servitize.db import ConfigError
from servitize.log import setup_logging
from servitize.migrate import NotMigratedError
from servitize.settings import get_settings

# Each module defines register(subparsers); a subcommand sets `handler` to a function
# taking (args) and returning an exit code, or a coroutine that does.
COMMAND_MODULES = (
    "servitize.commands",
    "registry.cli",
    "ingest.cli",
    "simulators.cli",
    "analytics.cli",
    "billing.cli",
    "api.cli",
    "fleet.cli",
    "console.cli",
    "servitize.demo",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(prog="servitize", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name).register(sub)
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
