"""Running a fleet service call from the CLI: open a pool, print the result as JSON, and turn
the service's errors into a one-line message."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fleet.service import Conflict, NotFound
from servitize import startup
from servitize.db import Pool


def print_json(value: Any) -> None:
    """Print a service result as indented JSON."""
    print(json.dumps(value, indent=2, default=str))


async def run_and_print(name: str, action: Callable[[Pool], Awaitable[Any]]) -> int:
    """Run `action` on a fresh pool and print its result; on failure exit with the reason."""
    pool = await startup.service_pool(name, max_size=2)
    try:
        print_json(await action(pool))
    except (NotFound, Conflict, ValueError) as exc:
        raise SystemExit(f"servitize: {exc}") from None
    finally:
        await pool.close()
    return 0
