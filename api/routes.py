"""API key management over HTTP (admins; a tenant admin manages its own tenant's keys)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from api import problems as p
from api import service
from api.deps import PoolDep
from api.problems import Problem
from api.schemas import KeyCreated, KeyIn, KeyOut
from api.security import Principal, Role, require_role

router = APIRouter(tags=["keys"])
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
KeyId = Annotated[str, Path(pattern=r"^[a-z0-9]{6,32}$")]


@router.get("/keys", response_model=list[KeyOut], responses=p.READ)
async def list_keys(pool: PoolDep, who: Admin) -> Any:
    """API keys visible to the caller (never their secrets)."""
    return await service.list_keys(pool, who.tenant_id)


@router.post("/keys", status_code=201, response_model=KeyCreated, responses=p.WRITE)
async def create_key(body: KeyIn, pool: PoolDep, who: Admin) -> Any:
    """Create a key; the token in the response is shown this one time only."""
    tenant = body.tenant_id if who.is_provider else who.tenant_id
    if body.tenant_id is not None and not who.can_see(body.tenant_id):
        raise Problem(404, "Not Found", f"tenant {body.tenant_id} not found")
    key, token = await service.create_key(pool, body.role, tenant, body.name)
    return KeyCreated(**KeyOut.model_validate(key, from_attributes=True).model_dump(), token=token)


@router.delete("/keys/{key_id}", status_code=204, responses=p.WRITE)
async def revoke_key(key_id: KeyId, pool: PoolDep, who: Admin) -> Response:
    """Revoke a key; requests with it answer 401 from now on."""
    visible = {k.id for k in await service.list_keys(pool, who.tenant_id) if not k.revoked_at}
    if key_id not in visible or not await service.revoke_key(pool, key_id):
        raise Problem(404, "Not Found", f"active key {key_id} not found")
    return Response(status_code=204)
