"""`servitize fleet keygen | package ... | campaign ...`."""

from __future__ import annotations

import argparse
import os
from datetime import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fleet import campaign_service, package_service, signing
from fleet.output import run_and_print
from fleet.schemas import CampaignIn
from servitize.db import Pool
from servitize.settings import get_settings


def register(cmds: Any) -> None:
    """Add key, package and campaign subcommands under `fleet`."""
    p = cmds.add_parser("keygen", help="write an Ed25519 signing key and its public half")
    p.add_argument("--out", type=Path, required=True, help="directory for signing.pem/public.pem")
    p.set_defaults(handler=_keygen)
    p = cmds.add_parser("upload", help="upload a firmware package (hashed, signed, stored)")
    p.add_argument("device_type_id")
    p.add_argument("version")
    p.add_argument("file", type=Path)
    p.add_argument("--from-version", action="append", help="installable over (repeatable)")
    p.set_defaults(handler=_upload)
    p = cmds.add_parser("campaign", help="create a staged rollout of a package")
    for name, kind, default in _CAMPAIGN_ARGS:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, default=default,
                       required=default is None and name in ("id", "package_id"))  # fmt: skip
    p.add_argument("--name", default=None)
    p.add_argument("--waves", default="25,100", help="cumulative percentages, ending at 100")
    p.add_argument("--require-approval", action="store_true")
    p.add_argument("--window", help="daily HH:MM-HH:MM in each tenant's time zone")
    p.add_argument("--continuous", action="store_true", help="pick up devices joining later")
    p.set_defaults(handler=_campaign)
    p = cmds.add_parser("status", help="show a campaign and its devices")
    p.add_argument("campaign_id")
    p.set_defaults(handler=_status, action=None)
    for action in ("pause", "resume", "cancel", "retry_failed"):
        what = "retry only the failed devices of" if action == "retry_failed" else action
        p = cmds.add_parser(action.replace("_", "-"), help=f"{what} a campaign")
        p.add_argument("campaign_id")
        p.set_defaults(handler=_status, action=action)


_CAMPAIGN_ARGS: list[tuple[str, type, Any]] = [
    ("id", str, None), ("package_id", str, None), ("tenant_id", str, None),
    ("site_id", str, None), ("from_version", str, None), ("canary", int, 1),
    ("success_pct", float, 95.0), ("abort_failure_pct", float, 20.0), ("min_finished", int, 5),
    ("rate_per_min", int, 60), ("timeout_s", int, 1800),
]  # fmt: skip


def _keygen(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    key, private = signing.new_key(), args.out / "signing.pem"
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(signing.private_pem(key))
    (args.out / "public.pem").write_bytes(signing.public_pem(key))
    print(f"wrote {private} (keep secret: SERVITIZE_FLEET_SIGNING_KEY) and {args.out}/public.pem")
    return 0


async def _upload(args: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.fleet_signing_key is None:
        raise SystemExit(
            "servitize: set SERVITIZE_FLEET_SIGNING_KEY (see `servitize fleet keygen`)"
        )
    try:
        content, key = args.file.read_bytes(), signing.load_private(settings.fleet_signing_key)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"servitize: {exc}") from None
    return await run_and_print("fleet upload", lambda pool: package_service.upload(
        pool, args.device_type_id, args.version, content, key=key,
        max_bytes=settings.fleet_max_package_bytes, actor="cli", from_versions=args.from_version,
    ))  # fmt: skip


async def _campaign(args: argparse.Namespace) -> int:
    spec = {name: getattr(args, name) for name, _, _ in _CAMPAIGN_ARGS}
    spec |= {"name": args.name or args.id, "require_approval": args.require_approval,
             "continuous": args.continuous, **_window(args.window)}  # fmt: skip
    try:
        spec["waves"] = [int(w) for w in args.waves.split(",")]
    except ValueError:
        raise SystemExit("servitize: --waves takes comma-separated integers") from None
    try:
        spec = CampaignIn.model_validate(spec).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SystemExit(f"servitize: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return await run_and_print(
        "fleet campaign", lambda pool: campaign_service.create(pool, spec, "cli")
    )


def _window(text: str | None) -> dict[str, Any]:
    if text is None:
        return {"window_start": None, "window_end": None}
    try:
        start, end = (time.fromisoformat(t) for t in text.split("-"))
    except ValueError:
        raise SystemExit("servitize: --window takes HH:MM-HH:MM") from None
    return {"window_start": start, "window_end": end}


async def _status(args: argparse.Namespace) -> int:
    async def act(pool: Pool) -> dict[str, Any]:
        if args.action is None:
            c = await campaign_service.get(pool, args.campaign_id, None)
        else:
            c = await campaign_service.control(pool, args.campaign_id, args.action, None, "cli")
        return {k: v for k, v in c.items() if k != "updates"}

    return await run_and_print("fleet campaign", act)
