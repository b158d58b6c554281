"""The principal as the authentication layer builds it; the data itself lives in :mod:`rp_api.domain.principal`
(the pure policy reads it without depending on authentication code)."""

from rp_api.domain.principal import ORGANISATION_TYPES_BY_ISSUER, IssuerName, Principal

__all__ = ["ORGANISATION_TYPES_BY_ISSUER", "IssuerName", "Principal"]
