"""Fleet API: firmware packages (provider admins) and campaigns (tenants watch their own)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from api import problems as p
from api.deps import PoolDep, get_app_settings
from api.problems import Problem
from api.security import Principal, require_provider, require_role
from fleet import campaign_service, package_service
from fleet.errors import call
from fleet.schemas import CampaignIn, CampaignOut, PackageOut
from fleet.signing import load_private
from servitize.settings import Settings

router = APIRouter()
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
Reader = Annotated[Principal, Depends(require_role())]
Admin = Annotated[Principal, Depends(require_role("admin"))]
Operator = Annotated[Principal, Depends(require_role("operator"))]
Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
PackageId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
UPLOAD = {"requestBody": {"content": {"application/octet-stream": {"schema": {
    "type": "string", "format": "binary"}}}, "required": True}}  # fmt: skip


@router.post(
    "/packages", status_code=201, response_model=PackageOut, responses=p.WRITE,
    openapi_extra=UPLOAD, summary="Upload a firmware package (provider admins)",
)  # fmt: skip
async def upload_package(
    request: Request, pool: PoolDep, who: Admin, settings: SettingsDep,
    device_type_id: Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")],
    version: Annotated[str, Query(pattern=r"^[0-9A-Za-z][0-9A-Za-z_.+-]{0,31}$")],
    from_version: Annotated[list[str] | None, Query(max_length=50)] = None,
) -> Any:  # fmt: skip
    """The body is the package itself; it is hashed, signed and stored content-addressed."""
    require_provider(who)
    if settings.fleet_signing_key is None:
        # A server-side set-up gap, but not a server fault (no 5xx): the upload cannot be done
        # until the provider configures its signing key.
        raise Problem(409, "Conflict", "no signing key: SERVITIZE_FLEET_SIGNING_KEY is not set")
    try:
        key = load_private(settings.fleet_signing_key)
    except (OSError, ValueError) as exc:
        raise Problem(409, "Conflict", f"the signing key cannot be used: {exc}") from None
    content = await request.body()
    return await call(
        package_service.upload(
            pool, device_type_id, version, content, key=key,
            max_bytes=settings.fleet_max_package_bytes, actor=f"key:{who.key_id}",
            from_versions=from_version,
        )
    )  # fmt: skip


@router.get("/packages", response_model=list[PackageOut], responses=p.READ)
async def list_packages(
    pool: PoolDep, who: Reader,
    device_type_id: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")] = None,
) -> Any:  # fmt: skip
    """Packages, newest first."""
    return await package_service.list_packages(pool, device_type_id)


@router.get("/packages/{package_id}", response_model=PackageOut, responses=p.READ)
async def get_package(package_id: PackageId, pool: PoolDep, who: Reader) -> Any:
    """One package."""
    return await call(package_service.get(pool, package_id))


@router.post("/campaigns", status_code=201, response_model=CampaignOut, responses=p.WRITE)
async def create_campaign(body: CampaignIn, pool: PoolDep, who: Operator) -> Any:
    """Start a staged rollout (provider keys only; a tenant sees campaigns on its devices)."""
    require_provider(who)
    return await call(campaign_service.create(pool, body.model_dump(), f"key:{who.key_id}"))


@router.get("/campaigns", response_model=list[CampaignOut], responses=p.READ)
async def list_campaigns(pool: PoolDep, who: Reader) -> Any:
    """Campaigns (a tenant sees those that touch its devices), newest first."""
    return await campaign_service.list_campaigns(pool, who.tenant_id)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, responses=p.READ)
async def get_campaign(campaign_id: Slug, pool: PoolDep, who: Reader) -> Any:
    """A campaign with its devices' updates (a tenant sees only its own devices)."""
    return await call(campaign_service.get(pool, campaign_id, who.tenant_id))


@router.post("/campaigns/{campaign_id}/{action}", response_model=CampaignOut, responses=p.WRITE)
async def control_campaign(
    campaign_id: Slug, action: Literal["pause", "resume", "cancel", "retry_failed"],
    pool: PoolDep, who: Operator,
) -> Any:  # fmt: skip
    """Pause, resume (approves a held stage), cancel, or retry only the failed devices."""
    actor = f"key:{who.key_id}"
    return await call(campaign_service.control(pool, campaign_id, action, who.tenant_id, actor))
