"""``GET /rp/v1/me``: lets an integrator check its set-up (issuer, organisation, roles)."""

from __future__ import annotations

from rp_api.authz.guard import CurrentPrincipal
from rp_api.routers import api_router
from rp_api.schemas.principal import Me

router = api_router(tags=["Caller"])


@router.get(
    "/me",
    operation_id="getMe",
    summary="The caller, as established from its token",
    description="What API RP makes of the caller's bearer token: the identity provider that issued it, the "
    "organisation (type, enterprise number, name, and the insurer's OA number), the caller's own SSIN (the token's "
    "subject), the roles API RP recognises for that organisation type, the token's id and expiry. An integrator's "
    "first call: it checks the token and the organisation's set-up, names no person and reads no dossier.",
    response_model=Me,
)
async def get_me(principal: CurrentPrincipal) -> Me:
    return Me.of(principal)
