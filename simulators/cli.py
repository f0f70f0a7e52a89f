"""`servitize simulate`: a simulated fleet in real time, accelerated, offline or at fleet scale."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servitize import startup
from servitize.settings import get_settings
from simulators import faults as fault_profiles
from simulators.faults import FaultPlanner
from simulators.fleet import Fleet, fleet
from simulators.generate import Span
from simulators.labels import RunInfo, write_labels
from simulators.publisher import PublishError
from simulators.stream import CHUNK_MS

MODES = ("accelerated", "offline", "realtime", "fleet")


def simulate_command(p: argparse.ArgumentParser) -> None:
    """`servitize simulate`: its arguments and handler."""
    p.add_argument("--fleet", default="demo", help="demo, small or scale:<N> (default demo)")
    p.add_argument("--mode", choices=MODES, default="accelerated")
    p.add_argument("--days", type=float, default=30.0, help="span for accelerated/offline")
    p.add_argument("--start", help="span start (ISO 8601, UTC if no offset); default: now - days")
    p.add_argument("--speedup", type=float, default=None,
                   help="model seconds per wall second (realtime/fleet: default 1; "
                        "accelerated: default unlimited)")  # fmt: skip
    p.add_argument("--faults", default="default", help=f"one of {sorted(fault_profiles.PROFILES)}")
    p.add_argument("--labels", type=Path, help="where to write the ground-truth labels JSON")
    p.add_argument("--out", type=Path, default=Path("sim-out"), help="offline output directory")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mqtt-url", help="broker (default SERVITIZE_MQTT_URL)")
    p.add_argument(
        "--connections", type=int, default=4, help="shared connections (accelerated/fleet)"
    )
    p.add_argument("--duration", type=float, help="wall seconds to run (realtime/fleet)")
    p.add_argument(
        "--public-key",
        type=Path,
        help="realtime: the provider's Ed25519 public key (PEM) devices verify with",
    )
    p.add_argument(
        "--fail-share",
        type=float,
        default=0.0,
        help="realtime: share of devices whose firmware install fails and rolls back",
    )
    p.add_argument("--no-register", action="store_true", help="do not touch the registry")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(handler=_simulate)


def _span_bounds(args: argparse.Namespace) -> tuple[int, int]:
    if args.days <= 0:
        raise SystemExit("servitize simulate: --days must be positive")
    if args.start:
        start = datetime.fromisoformat(args.start)
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        start_ms = int(start.timestamp() * 1000)
    else:
        now_hour = int(time.time() * 1000) // CHUNK_MS * CHUNK_MS
        start_ms = now_hour - round(args.days * 86_400_000)
    return start_ms, start_ms + round(args.days * 86_400_000)


async def _register(args: argparse.Namespace, sim_fleet: Fleet) -> dict[str, str] | None:
    from simulators.service import register_fleet, registration_commands

    if args.no_register:
        return None
    if not get_settings().database_url:
        print("no database configured (SERVITIZE_DATABASE_URL); register the fleet with:")
        print("\n".join("  " + line for line in registration_commands(sim_fleet)))
        return None
    pool = await startup.service_pool("simulate", max_size=2)
    try:
        passwords = await register_fleet(pool, sim_fleet)
    finally:
        await pool.close()
    print(f"registered {len(sim_fleet.devices)} devices of {len(sim_fleet.tenants)} tenants")
    return passwords


def _mqtt_url(args: argparse.Namespace) -> str:
    url: str | None = args.mqtt_url or get_settings().mqtt_url
    if not url:
        raise SystemExit("servitize simulate: give --mqtt-url or set SERVITIZE_MQTT_URL")
    return url


async def _simulate(args: argparse.Namespace) -> int:
    try:
        sim_fleet = fleet(args.fleet, args.seed)
        profile = fault_profiles.profile(args.faults)
        if args.speedup is not None and args.speedup <= 0:
            raise ValueError("--speedup must be positive")
        if args.connections < 1:
            raise ValueError("--connections must be at least 1")
    except ValueError as exc:
        print(f"servitize simulate: {exc}", file=sys.stderr)
        return 2
    try:
        if args.mode in ("offline", "accelerated"):
            return await _historical(args, sim_fleet, profile)
        return await _live(args, sim_fleet, profile)
    except (PublishError, ValueError) as exc:
        print(f"servitize simulate: {exc}", file=sys.stderr)
        return 1


async def _historical(args: argparse.Namespace, sim_fleet: Fleet, profile: Any) -> int:
    start_ms, end_ms = _span_bounds(args)
    span = Span(sim_fleet, start_ms, end_ms, FaultPlanner(profile, start_ms))
    info = RunInfo(sim_fleet.name, args.seed, args.mode, profile.name, start_ms, end_ms)
    if args.mode == "offline":
        from simulators.offline import run_offline

        labels = args.labels or args.out / "labels.json"
        res = run_offline(span, args.out, labels, info, progress=not args.quiet)
        print(
            f"wrote {res.readings:,} readings and {res.events:,} events of "
            f"{len(sim_fleet.devices)} devices to {res.out_dir}/, {res.faults} faults to {labels}"
        )
        return 0
    from simulators.accelerated import run_accelerated

    url = _mqtt_url(args)
    await _register(args, sim_fleet)
    acc = await run_accelerated(
        span, url, args.labels, info, connections=args.connections, progress=not args.quiet,
        speedup=args.speedup,
    )  # fmt: skip
    p = acc.publish
    print(f"published {acc.readings:,} readings and {acc.events:,} events in {p.messages:,} "
          f"messages ({p.bytes / 1e6:.1f} MB) in {p.seconds:.1f} s = {p.rate:,.0f} msg/s; "
          f"{acc.faults} faults labelled")  # fmt: skip
    return 0


async def _live(args: argparse.Namespace, sim_fleet: Fleet, profile: Any) -> int:
    url = _mqtt_url(args)
    passwords = await _register(args, sim_fleet)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if args.duration:
        loop.call_later(args.duration, stop.set)
    speedup = args.speedup or 1.0
    now = int(time.time() * 1000)
    planner = FaultPlanner(profile, now)
    print(f"{args.mode}: {len(sim_fleet.devices)} devices at {speedup:g}x; Ctrl-C stops")
    if args.mode == "fleet":
        from simulators.live import run_fleet_live

        stats = await run_fleet_live(
            sim_fleet, url, planner, stop, speedup=speedup, connections=args.connections
        )
        print(f"published {stats.messages:,} messages in {stats.seconds:.0f} s")
        return 0
    from simulators.agent import agent_factory
    from simulators.realtime import run_realtime

    def save(labels: list[Any]) -> None:
        if args.labels:
            info = RunInfo(sim_fleet.name, args.seed, "realtime", profile.name, now,
                           int(time.time() * 1000), speedup)  # fmt: skip
            write_labels(args.labels, info, labels)

    pem = args.public_key.read_bytes() if args.public_key else None
    res = await run_realtime(
        sim_fleet, url, planner, stop, passwords=passwords, speedup=speedup, on_labels=save,
        start_ms=now, agents=agent_factory(pem, args.fail_share, args.seed),
    )  # fmt: skip
    sent = sum(s.readings_sent for s in res.clients.values())
    print(f"sent {sent:,} readings; {len(res.faults)} faults injected")
    return 0
