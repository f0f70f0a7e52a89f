"""HTTP package download for devices: a short-lived token instead of an API key, `Range`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Response

from api import problems as p
from api.deps import PoolDep, get_app_settings
from api.problems import Problem
from fleet import package_repository as repo
from fleet import rollout_service, tokens
from servitize.db import Pool
from servitize.settings import Settings

router = APIRouter()
BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
RESPONSES: p.Responses = (
    {
        200: {"content": BINARY, "description": "the whole package"},
        206: {"content": BINARY, "description": "the requested byte range"},
        401: p._doc("the token is malformed, forged or expired"),
        416: p._doc("the range cannot be satisfied"),
    }
    | p.NOT_FOUND
    | p.INVALID
)


def download_secret(settings: Settings) -> bytes | None:
    """The token secret: configured, else derived from the signing key (None: no downloads)."""
    if settings.fleet_download_secret:
        return settings.fleet_download_secret.encode()
    key = settings.fleet_signing_key
    if key is None or not key.is_file():
        return None
    return hashlib.sha256(b"servitize-download:" + key.read_bytes()).digest()


@router.get(
    "/downloads/{token}", response_class=Response, responses=RESPONSES,
    summary="Download a package (devices; token from the firmware_update command)",
)  # fmt: skip
async def download(
    token: Annotated[str, Path(min_length=8, max_length=400, pattern=r"^[A-Za-z0-9_.-]+$")],
    pool: PoolDep,
    settings: Annotated[Settings, Depends(get_app_settings)],
    range_: Annotated[str | None, Header(alias="Range", max_length=100)] = None,
) -> Any:  # fmt: skip
    """The package the token's device is targeted for, whole or one `bytes=` range."""
    secret = download_secret(settings)
    try:
        if secret is None:
            raise ValueError("downloads are not enabled on this server")
        device_id, campaign_id = tokens.check(secret, token, datetime.now(UTC))
    except ValueError as exc:
        raise Problem(401, "Unauthorized", str(exc)) from None
    package = await rollout_service.targeted_package(pool, device_id, campaign_id)
    if package is None:
        raise Problem(404, "Not Found", "no unfinished update of this device in this campaign")
    return await _send(pool, package, range_)


async def _send(pool: Pool, package: dict[str, Any], header: str | None) -> Response:
    size = package["size"]
    try:
        span = tokens.parse_range(header, size)
    except ValueError as exc:
        raise Problem(416, "Range Not Satisfiable", str(exc)) from None
    start, end = span or (0, size - 1)
    async with pool.acquire() as conn:
        data = await repo.chunk(conn, package["sha256"], start, end - start + 1)
    if data is None:
        raise Problem(404, "Not Found", f"content of package {package['id']} is missing")
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{package["sha256"]}"'}
    if span is None:
        return Response(data, 200, headers, "application/octet-stream")
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(data, 206, headers, "application/octet-stream")
