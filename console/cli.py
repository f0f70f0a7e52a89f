"""`servitize console user create|list|password`: console users from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys

from api.models import ROLES
from console import service
from servitize import db, startup


def console_command(p: argparse.ArgumentParser) -> None:
    """`servitize console`: its arguments and handler."""
    csub = p.add_subparsers(dest="console_command", required=True)
    u = csub.add_parser("user", help="console users").add_subparsers(
        dest="user_command", required=True
    )
    q = u.add_parser("create", help="create a user (the password is read from stdin or asked)")
    q.add_argument("username")
    q.add_argument("--role", required=True, choices=ROLES)
    q.add_argument("--tenant", default=None, help="scope the user to one tenant")
    q.add_argument("--name", default="", help="the person's display name")
    q.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    q.set_defaults(handler=_create)
    q = u.add_parser("list", help="list users")
    q.set_defaults(handler=_list)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the passwords differ")
    return first


async def _pool() -> db.Pool:
    return await startup.service_pool("console", max_size=2)


async def _create(args: argparse.Namespace) -> int:
    try:
        password = _password(args)
        pool = await _pool()
        try:
            user = await service.create_user(
                pool, args.username, password, args.role, args.tenant, args.name
            )
        finally:
            await pool.close()
    except ValueError as exc:
        print(f"servitize: {exc}", file=sys.stderr)
        return 2
    scope = f"tenant {user.tenant_id}" if user.tenant_id else "provider-wide"
    print(f"user {user.username} ({user.role}, {scope}) created")
    return 0


async def _list(args: argparse.Namespace) -> int:
    pool = await _pool()
    try:
        rows = await service.list_users(pool, None)
    finally:
        await pool.close()
    print(f"{'user':<24} {'role':<9} {'tenant':<16} state")
    for r in rows:
        state = "locked" if r["locked_until"] else ("disabled" if r["disabled"] else "active")
        print(f"{r['username']:<24} {r['role']:<9} {r['tenant_id'] or '*':<16} {state}")
    return 0
