"""Shared benchmark plumbing: scratch database, private broker, medians, tables, machine."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from servitize import db, migrate
from servitize.infra import BrokerProcess, local_server_url, start_broker, with_database
from servitize.settings import Settings

WORK = Path(__file__).resolve().parent.parent / ".servitize" / "bench"


def server_url() -> str:
    """SERVITIZE_BENCH_DATABASE_URL, the local PostgreSQL, or an embedded one."""
    return local_server_url(os.environ.get("SERVITIZE_BENCH_DATABASE_URL"), WORK)


@asynccontextmanager
async def scratch_database(server: str) -> AsyncIterator[str]:
    """A new migrated database, dropped afterwards."""
    name = f"servitize_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f"CREATE DATABASE {name}")
    url = with_database(server, name)
    try:
        conn = await db.connect(url)
        await migrate.migrate(conn, Settings(database_url=url))
        await conn.close()
        yield url
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def private_broker() -> BrokerProcess:
    """A broker with the no-drop queue settings, on a free port."""
    return start_broker(WORK)


def median(values: Sequence[float]) -> float:
    """Median of the repeats."""
    return statistics.median(values)


def machine() -> str:
    """One line naming the machine the numbers come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {sys.version.split()[0]}"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def progress(message: str) -> None:
    """Progress to stderr, so stdout keeps only the results."""
    print(message, file=sys.stderr, flush=True)
