"""``GET /rp/v1/me``: lets an integrator check its set-up (issuer, organisation, roles)."""

from __future__ import annotations

from rp_api.authz.guard import CurrentPrincipal
from rp_api.routers import api_router
from rp_api.schemas.principal import Me

router = api_router(tags=["Caller"])


@router.get("/me", operation_id="getMe", summary="The caller, as established from its token", response_model=Me)
async def get_me(principal: CurrentPrincipal) -> Me:
    return Me.of(principal)
