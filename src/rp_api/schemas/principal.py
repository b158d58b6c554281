"""``GET /rp/v1/me``: the caller as API RP understands its token."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from rp_api.authz.principal import IssuerName, Principal
from rp_api.domain.actors import OrganisationType, Role
from rp_api.identifiers import IsoDateTime
from rp_api.schemas.base import ApiModel

_EXAMPLE: dict[str, Any] = {
    "organisation": {
        "type": "regionalService",
        "enterpriseNumber": "0411159046",
        "name": "VDAB",
        "oaNumber": None,
    },
    "userSsin": "85073003328",
    "roles": ["referenceAdvisor"],
    "issuer": "umanBcss",
    "tokenId": "6f1c1c2e-7f0a-4a53-9d43-0f1a7f1f2c11",
    "expiresAt": "2026-11-23T08:00:00Z",
}


class OrganisationOut(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE["organisation"]]})

    type: OrganisationType
    enterprise_number: str = Field(description="BCE/KBO number, 10 digits.")
    name: str
    oa_number: int | None = Field(description="Insurer number (100-900); null for other organisations and the CIN.")


class Me(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    organisation: OrganisationOut
    user_ssin: str = Field(description="The caller's own SSIN (the token's subject).")
    roles: list[Role]
    issuer: IssuerName
    token_id: str = Field(description="The token's `jti`, empty when it has none.")
    expires_at: IsoDateTime

    @classmethod
    def of(cls, principal: Principal) -> Me:
        return cls(
            organisation=OrganisationOut(
                type=principal.organisation_type,
                enterprise_number=principal.enterprise_number,
                name=principal.organisation_name,
                oa_number=principal.oa_number,
            ),
            user_ssin=principal.user_ssin,
            roles=sorted(principal.roles),
            issuer=principal.issuer,
            token_id=principal.token_id,
            expires_at=principal.expires_at,
        )
