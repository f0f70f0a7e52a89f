"""`servitize registry ...`: seed device types, add tenants and devices, write broker auth."""

from __future__ import annotations

import argparse
from pathlib import Path

from registry import credentials, service
from registry.models import Device, Site, Tenant, check_not_reserved
from servitize import db, startup


def registry_command(p: argparse.ArgumentParser) -> None:
    """`servitize registry`: its arguments and handler."""
    rsub = p.add_subparsers(dest="registry_command", required=True)
    q = rsub.add_parser("seed-types", help="register the built-in device types")
    q.set_defaults(handler=_seed_types)
    q = rsub.add_parser("add-tenant", help="create or update a tenant")
    q.add_argument("id")
    q.add_argument("--name", required=True)
    q.add_argument("--timezone", default="Asia/Shanghai")
    q.set_defaults(handler=_add_tenant)
    q = rsub.add_parser("add-site", help="create or update a site of a tenant")
    q.add_argument("id")
    q.add_argument("--tenant", required=True)
    q.add_argument("--name", required=True)
    q.add_argument("--kind", help="e.g. substation, slope, bridge, plant")
    q.set_defaults(handler=_add_site)
    q = rsub.add_parser("add-device", help="register a device and print its password once")
    q.add_argument("id")
    q.add_argument("--type", required=True, dest="device_type")
    q.add_argument("--tenant", required=True)
    q.add_argument("--site")
    q.set_defaults(handler=_add_device)
    q = rsub.add_parser("mosquitto-auth", help="write a Mosquitto password file and ACL")
    q.add_argument("--out", type=Path, default=Path("deploy/generated"))
    q.add_argument(
        "--service-user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="an ingest account (ingest, ingest-2, ...): reads device topics, writes none",
    )
    q.set_defaults(handler=_mosquitto_auth)


async def _pool() -> db.Pool:
    return await startup.service_pool("registry", max_size=2)


async def _seed_types(args: argparse.Namespace) -> int:
    pool = await _pool()
    try:
        await service.ensure_builtin_types(pool)
    finally:
        await pool.close()
    print("built-in device types registered")
    return 0


async def _add_tenant(args: argparse.Namespace) -> int:
    pool = await _pool()
    try:
        await service.save_tenant(pool, Tenant(args.id, args.name, args.timezone))
    finally:
        await pool.close()
    return 0


async def _add_site(args: argparse.Namespace) -> int:
    pool = await _pool()
    try:
        saved = await service.save_site(pool, Site(args.id, args.tenant, args.name, args.kind))
    finally:
        await pool.close()
    if not saved:
        raise db.ConfigError(f"tenant {args.tenant} does not exist: add it first")
    return 0


async def _add_device(args: argparse.Namespace) -> int:
    try:
        device = Device(check_not_reserved(args.id), args.device_type, args.tenant, args.site)
    except ValueError as exc:
        raise db.ConfigError(str(exc)) from None
    pool = await _pool()
    try:
        passwords = await service.register_devices(pool, [device])
    finally:
        await pool.close()
    print(f"device {args.id} registered; MQTT password (shown once): {passwords[args.id]}")
    return 0


async def _mosquitto_auth(args: argparse.Namespace) -> int:
    users = _service_users(args.service_user)
    pool = await _pool()
    try:
        passwd, acl = await service.mosquitto_auth_files(pool, users)
    except ValueError as exc:
        raise db.ConfigError(f"{exc}; nothing written") from None
    finally:
        await pool.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "passwd").write_text(passwd)
    (args.out / "passwd").chmod(0o600)
    (args.out / "acl").write_text(acl)
    print(f"wrote {args.out / 'passwd'} ({passwd.count(chr(10))} users) and {args.out / 'acl'}")
    return 0


def _service_users(specs: list[str]) -> dict[str, str]:
    """NAME:PASSWORD pairs as name -> hash; a name twice or an empty password is refused."""
    users: dict[str, str] = {}
    for spec in specs:
        name, _, password = spec.partition(":")
        if not name or not password:
            raise db.ConfigError(f"--service-user {name or spec!r}: use NAME:PASSWORD")
        if name in users:
            raise db.ConfigError(f"--service-user {name!r} given twice")
        users[name] = credentials.hash_password(password)
    return users
