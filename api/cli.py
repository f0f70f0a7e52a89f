"""`servitize api` (serve the HTTP API) and `servitize keys ...` (create, list, revoke keys)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from api import server, service
from api.models import ROLES
from servitize import db, migrate, startup
from servitize.settings import get_settings
from servitize.storage import active_path

log = logging.getLogger(__name__)


def api_command(p: argparse.ArgumentParser) -> None:
    """`servitize api`: its arguments and handler."""
    p.add_argument("--host", default=None, help="default SERVITIZE_API_HOST")
    p.add_argument("--port", type=int, default=None, help="default SERVITIZE_API_PORT")
    p.add_argument("--no-access-log", action="store_true", help="do not log every request")
    p.set_defaults(handler=_serve)


def keys_command(p: argparse.ArgumentParser) -> None:
    """`servitize keys`: its arguments and handler."""
    ksub = p.add_subparsers(dest="keys_command", required=True)
    q = ksub.add_parser("create", help="create a key and print it once")
    q.add_argument("--role", required=True, choices=ROLES)
    q.add_argument("--tenant", default=None, help="scope the key to one tenant")
    q.add_argument("--name", default="")
    q.set_defaults(handler=_create)
    q = ksub.add_parser("list", help="list keys (never their secrets)")
    q.set_defaults(handler=_list)
    q = ksub.add_parser("revoke", help="revoke a key by id")
    q.add_argument("id")
    q.set_defaults(handler=_revoke)


async def _check_schema() -> None:
    conn = await db.connect(db.database_url(get_settings()))
    try:
        await migrate.require_migrated(conn)
        log.info("storage path: %s", (await active_path(conn)).value)
    finally:
        await conn.close()


def _serve(args: argparse.Namespace) -> int:
    from api.app import create_app

    settings = get_settings()
    asyncio.run(_check_schema())
    host, port = args.host or settings.api_host, args.port or settings.api_port
    sock = server.bind(host, port)
    options = {"host": host, "port": port, "access_log": not args.no_access_log}
    options["log_level"] = settings.log_level.lower()
    api = server.ApiServer(server.config(create_app(settings=settings), **options))
    api.run(sockets=[sock])
    return 0


async def _pool() -> db.Pool:
    return await startup.service_pool("keys", max_size=2)


async def _create(args: argparse.Namespace) -> int:
    pool = await _pool()
    try:
        key, token = await service.create_key(pool, args.role, args.tenant, args.name)
    except service.UnknownTenant as exc:
        print(f"servitize: {exc}", file=sys.stderr)
        return 2
    finally:
        await pool.close()
    scope = f"tenant {key.tenant_id}" if key.tenant_id else "provider-wide"
    print(f"key {key.id} ({key.role}, {scope}) created; token (shown once):\n{token}")
    return 0


async def _list(args: argparse.Namespace) -> int:
    pool = await _pool()
    try:
        keys = await service.list_keys(pool)
    finally:
        await pool.close()
    print(f"{'id':<14} {'role':<9} {'tenant':<16} {'state':<8} {'last used':<25} name")
    for k in keys:
        state = "revoked" if k.revoked_at else "active"
        used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "never"
        print(f"{k.id:<14} {k.role:<9} {k.tenant_id or '*':<16} {state:<8} {used:<25} {k.name}")
    return 0


async def _revoke(args: argparse.Namespace) -> int:
    pool = await _pool()
    try:
        done = await service.revoke_key(pool, args.id)
    finally:
        await pool.close()
    print(f"key {args.id} revoked" if done else f"no active key {args.id}")
    return 0 if done else 1
