"""The principal: who is calling, as established from a verified token and the organisation registry (pure data;
built by :mod:`rp_api.authz.tokens`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rp_api.domain.actors import OrganisationType, Role


class IssuerName(StrEnum):
    UMAN_EHEALTH = "umanEhealth"
    UMAN_BCSS = "umanBcss"
    INAMI_INTERNAL = "inamiInternal"
    DEV = "dev"
    """The local development issuer (``rp-api token``), trusted only when RP_ENV is dev or demo."""


ORGANISATION_TYPES_BY_ISSUER: dict[IssuerName, frozenset[OrganisationType]] = {
    IssuerName.UMAN_EHEALTH: frozenset({OrganisationType.INSURER, OrganisationType.PREVENTION_SERVICE}),
    IssuerName.UMAN_BCSS: frozenset({OrganisationType.REGIONAL_SERVICE}),
    IssuerName.INAMI_INTERNAL: frozenset({OrganisationType.INAMI}),
    IssuerName.DEV: frozenset(OrganisationType),
}


@dataclass(frozen=True, slots=True)
class Principal:
    organisation_type: OrganisationType
    enterprise_number: str
    organisation_name: str
    oa_number: int | None
    user_ssin: str
    roles: frozenset[Role]
    issuer: IssuerName
    token_id: str
    expires_at: datetime
    user_name: str | None = None
    """The user's name when the token carries one (claim ``name``); shown as a message's author."""

    def has_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)
