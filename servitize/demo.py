"""`servitize demo`: the whole system on one machine, embedding whatever is not configured.

Parts plug in here: simulators publish, ingest stores, the detector raises alerts, the API
serves; billing runs on demand. Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from servitize import db, migrate
from servitize.infra import BrokerProcess, start_broker, start_embedded_postgres, with_database
from servitize.settings import Settings, get_settings
from servitize.storage import active_path

log = logging.getLogger(__name__)
Part = Callable[["DemoContext"], Awaitable[None]]


# The banner waits this long at most for the API's admin key (it prints what it has then).
BANNER_WAIT_S = 60.0
# After a stop signal, parts get this long to finish cleanly before they are cancelled
# (ingest acknowledges only committed messages, so a cancelled batch is redelivered).
STOP_GRACE_S = 1.0


@dataclass
class DemoContext:
    """What every demo part needs."""

    settings: Settings
    pool: db.Pool
    mqtt_url: str
    stop: asyncio.Event
    notes: list[str] = field(default_factory=list)
    # set once the API has its admin key, so the banner never goes out without it
    api_ready: asyncio.Event = field(default_factory=asyncio.Event)
    # the simulated fleet's device passwords, from registering it before ingest starts
    passwords: dict[str, str] | None = None
    # the API's listening socket, bound before anything started
    api_socket: socket.socket | None = None


def demo_command(p: argparse.ArgumentParser) -> None:
    """`servitize demo`: its arguments and handler."""
    p.add_argument("--api-port", type=int, help="API port (default SERVITIZE_API_PORT or 8000)")
    p.add_argument("--duration", type=float, default=0, help="stop after N seconds (0: Ctrl-C)")
    p.set_defaults(handler=_run)


async def _database(settings: Settings) -> str:
    """The configured database, or a `servitize` database on an embedded PostgreSQL."""
    if settings.database_url:
        return settings.database_url
    server = await asyncio.to_thread(start_embedded_postgres, settings.data_dir / "demo")
    admin = await asyncpg.connect(server)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = 'servitize'"):
            await admin.execute("CREATE DATABASE servitize")
    finally:
        await admin.close()
    return with_database(server, "servitize")


def _broker(settings: Settings) -> tuple[str, BrokerProcess | None]:
    if settings.mqtt_url:
        return settings.mqtt_url, None
    broker = start_broker(settings.data_dir / "demo")
    return broker.url, broker


async def _run(args: argparse.Namespace) -> int:
    from api.server import bind

    settings = get_settings()
    if args.api_port:
        settings = settings.model_copy(update={"api_port": args.api_port})
    url = await _database(settings)
    # Bound before the pool, broker and parts start: a busy port is one line.
    sock = bind(settings.api_host, settings.api_port)
    pool = await db.create_pool(url, max_size=12)
    mqtt_url, broker = _broker(settings)
    settings = settings.model_copy(update={"database_url": url, "mqtt_url": mqtt_url})
    if broker and broker.kind == "amqtt":  # no $share groups there; one ingest needs none
        settings = settings.model_copy(update={"ingest_group": ""})
    try:
        async with pool.acquire() as conn:
            await migrate.migrate(conn, settings)
            path = await active_path(conn)
        log.info("storage path: %s", path.value)
        passwords = await _register_fleet(pool)
        settings = _fleet_key(settings)
        ctx = DemoContext(
            settings, pool, mqtt_url, asyncio.Event(), passwords=passwords, api_socket=sock
        )
        await _run_parts(ctx, args.duration)
    except asyncio.CancelledError:  # a second Ctrl-C: stop without waiting for the parts
        return 130
    finally:
        sock.close()
        await _close(pool)
        if broker:
            broker.stop()
    return 0


async def _close(pool: db.Pool) -> None:
    """Close the pool, not waiting more than a second for connections still in use."""
    try:
        await asyncio.wait_for(pool.close(), 1.0)
    except TimeoutError:
        pool.terminate()


async def _register_fleet(pool: db.Pool) -> dict[str, str] | None:
    """Register the simulated fleet before ingest starts, so its first messages are known."""
    from simulators.fleet import fleet
    from simulators.service import register_fleet

    return await register_fleet(pool, fleet("demo", 1))


def _fleet_key(settings: Settings) -> Settings:
    """A provider signing key for the demo's firmware campaign (kept across runs)."""
    if settings.fleet_signing_key is not None:
        return settings
    from fleet import signing

    path = settings.data_dir / "demo" / "fleet-signing.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(signing.private_pem(signing.new_key()))
        path.chmod(0o600)
    return settings.model_copy(update={"fleet_signing_key": path})


def _stop_on_signals(stop: asyncio.Event) -> None:
    """First SIGINT/SIGTERM: say so, end open streams, stop every part; a second: stop now."""
    from api.server import end_streams, say_stopping

    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set() and main is not None:
            print("servitize demo: stopping now", file=sys.stderr, flush=True)
            main.cancel()
            return
        say_stopping("servitize demo", sig)
        end_streams()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal, sig)


async def _run_parts(ctx: DemoContext, duration: float) -> None:
    _stop_on_signals(ctx.stop)
    tasks = {asyncio.create_task(_guarded(name, part, ctx)): name for name, part in _parts()}
    try:
        await _banner_and_wait(ctx, duration)
        await ctx.stop.wait()
        _, busy = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
        if busy:  # e.g. a billing run in progress: what it did not commit is simply not kept
            names = ", ".join(tasks[t] for t in busy)
            log.warning("still busy %.0f s after the stop, cancelled: %s", STOP_GRACE_S, names)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _banner_and_wait(ctx: DemoContext, duration: float) -> None:
    # A loaded machine or a large demo database can take longer than a fixed pause.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(ctx.api_ready.wait(), BANNER_WAIT_S)
    await asyncio.sleep(1)
    print(
        "\n".join(["", "Servitize demo is running. Ctrl-C stops it.", *ctx.notes, ""]), flush=True
    )
    if duration:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.stop.wait(), duration)
        ctx.stop.set()


async def _guarded(name: str, part: Part, ctx: DemoContext) -> None:
    try:
        await part(ctx)
    except Exception:
        log.exception("demo part %s failed; the rest keeps running", name)


def _parts() -> list[tuple[str, Part]]:
    return [
        ("ingest", _ingest),
        ("simulators", _simulators),
        ("detector", _detector),
        ("api", _api),
        ("billing", _billing),
        ("fleet", _fleet),
    ]


async def _ingest(ctx: DemoContext) -> None:
    from ingest.rollup import run_upkeep
    from ingest.service import IngestConfig, IngestService

    config = IngestConfig.from_settings(ctx.settings, ctx.mqtt_url)
    service = IngestService(ctx.pool, config)
    await asyncio.gather(
        service.run(ctx.stop),
        run_upkeep(ctx.pool, ctx.stop, 10.0, ctx.settings.telemetry_retention_days),
    )


async def _simulators(ctx: DemoContext) -> None:
    from simulators.service import run_demo_fleet

    labels = ctx.settings.data_dir / "demo" / "labels.json"
    ctx.notes.append(f"Simulated fleet: fault ground truth is written to {labels}")
    agents = None
    if ctx.settings.fleet_signing_key:
        from fleet.signing import load_private, public_pem
        from simulators.agent import agent_factory

        # Devices hold the provider's public key; one in ten fails its install and rolls back.
        pem = public_pem(load_private(ctx.settings.fleet_signing_key))
        agents = agent_factory(pem, fail_share=0.1)
    await run_demo_fleet(
        ctx.pool, ctx.mqtt_url, ctx.stop, labels_path=labels, passwords=ctx.passwords,
        agents=agents,
    )  # fmt: skip


async def _fleet(ctx: DemoContext) -> None:
    from fleet.demo import run_fleet_demo

    await run_fleet_demo(ctx.pool, ctx.settings, ctx.mqtt_url, ctx.stop, ctx.notes)


async def _detector(ctx: DemoContext) -> None:
    from analytics.monitor.detect import run_detector

    # Two device-hours of learning: at the demo fleet's 60x pace the detectors arm after two
    # minutes instead of a week (rules, fault codes and offline alerts work at once).
    await run_detector(ctx.pool, ctx.stop, warmup_s=2 * 3600)


async def _api(ctx: DemoContext) -> None:
    import uvicorn

    from api import server
    from api.app import create_app
    from servitize.demo_login import demo_login, servitize_command

    found = await demo_login(ctx.pool, ctx.settings.data_dir / "demo" / "credentials.json")
    token = found.api_key
    host, port = ctx.settings.api_host, ctx.settings.api_port
    base = f"http://{host}:{port}"
    ctx.notes += [
        f"Console:       {base}/console/  (log in as {found.username} / {found.password})",
        f"API docs:      {base}/docs",
        f"Admin API key: {token}",
        f"Live data:     curl -H 'Authorization: Bearer {token}' {base}/api/v1/devices",
        f"Alerts:        curl -H 'Authorization: Bearer {token}' {base}/api/v1/alerts",
        f"Bill a month:  SERVITIZE_DATABASE_URL='{ctx.settings.database_url}' "
        f"{servitize_command()} bill --period {datetime.now(UTC):%Y-%m}",
    ]
    ctx.api_ready.set()
    app = create_app(ctx.pool, ctx.settings)
    config = server.config(app, host=host, port=port, log_level="warning")
    api = uvicorn.Server(config)
    # The demo owns Ctrl-C (it stops every part); keep uvicorn from taking the signals over.
    api.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    serve = asyncio.create_task(api.serve(sockets=[ctx.api_socket] if ctx.api_socket else None))
    await ctx.stop.wait()
    api.should_exit = True
    await serve


# A yearly care plan billed monthly: ¥300 per covered device, 60 patrols included per device,
# ¥5 per extra patrol, SLA credits below 99.5 % availability (the README's reference business).
DEMO_PLAN = {
    "id": "demo-care-plan",
    "name": "Monitoring care plan (demo)",
    "pricing_model": "flat",
    "tiers": [{"unit_price": "300.00"}],
    "usage_prices": [
        {"usage_type": "inspection_completed", "unit_price": "5.00", "included_per_device": 60}
    ],
    "sla_target": "99.5",
    "sla_tiers": [
        {"below": "99.5", "credit": "10"},
        {"below": "99", "credit": "25"},
        {"below": "95", "credit": "50"},
    ],
}


async def _billing(ctx: DemoContext) -> None:
    """Subscribe the demo tenants' devices and keep this month's draft invoices current."""
    from billing import invoice_service, service
    from billing.errors import BillingError
    from billing.models import Period
    from billing.schemas import PlanIn, SubscriptionIn
    from registry import service as registry

    await service.save_plan(ctx.pool, PlanIn.model_validate(DEMO_PLAN))
    today = datetime.now(UTC).date()
    async with ctx.pool.acquire() as conn:
        devices = await registry.tenant_devices(conn)
    by_tenant: dict[str, list[str]] = {}
    for device_id, tenant_id, _ in devices:
        by_tenant.setdefault(tenant_id, []).append(device_id)
    for tenant_id, ids in by_tenant.items():
        sub = SubscriptionIn(
            tenant_id=tenant_id,
            plan_id=DEMO_PLAN["id"],
            start_date=today.replace(day=1),
            device_ids=sorted(ids),
        )
        with contextlib.suppress(BillingError):  # already subscribed by an earlier demo run
            await service.subscribe(ctx.pool, sub)
    ctx.notes.append(
        f"Invoices:      draft invoices for {today:%Y-%m} are refreshed every minute "
        "(GET /api/v1/billing/invoices)"
    )
    while not ctx.stop.is_set():
        await invoice_service.run_period(ctx.pool, Period(today.year, today.month))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.stop.wait(), 60)
