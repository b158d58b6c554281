"""The authentication dependency. Mounted on the ``/rp/v1`` router, so every API endpoint requires a principal
unless it is deliberately placed outside that router (``/health``, ``/docs``)."""

from __future__ import annotations

from typing import Annotated

import httpx
import structlog
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rp_api.authz.dev_issuer import DEV_ISSUER_SETTINGS, DevIssuer
from rp_api.authz.jwks import JwksFile, JwksUrl, KeySet, KeySource, StaticJwks
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.principal import IssuerName, Principal
from rp_api.authz.tokens import TokenVerifier, TrustedIssuer
from rp_api.domain.policy import works_on_dossiers
from rp_api.problems import MissingPermission, NoAccessToken
from rp_api.settings import IssuerSettings, Settings

_bearer = HTTPBearer(auto_error=False, bearerFormat="JWT", description="A UMAN eHealth, UMAN BCSS or INAMI token.")


def build_verifier(settings: Settings, http: httpx.AsyncClient) -> TokenVerifier:
    """The verifier of every issuer switched on in the settings (the dev issuer only in dev and demo)."""
    configured: list[tuple[IssuerName, IssuerSettings, KeySource]] = []
    for name, config in (
        (IssuerName.UMAN_EHEALTH, settings.uman_ehealth),
        (IssuerName.UMAN_BCSS, settings.uman_bcss),
        (IssuerName.INAMI_INTERNAL, settings.inami_internal),
    ):
        if not config.enabled:
            continue
        source: KeySource = JwksFile(config.jwks_file) if config.jwks_file else JwksUrl(str(config.jwks_url), http)
        configured.append((name, config, source))
    if settings.dev_token_issuer and settings.env.is_local:
        dev = DevIssuer.in_data_dir(settings.data_dir)
        configured.append((IssuerName.DEV, DEV_ISSUER_SETTINGS, StaticJwks([dev.public_jwk()])))
    issuers = [
        TrustedIssuer(name, config, KeySet(source, refresh_interval_s=settings.jwks_refresh_interval_s))
        for name, config, source in configured
    ]
    registry = OrganisationRegistry.load(settings.organisations_file)
    return TokenVerifier(issuers, registry, cache_size=settings.token_cache_size)


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Principal:
    if credentials is None or not credentials.credentials.strip():
        raise NoAccessToken()
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(credentials.credentials.strip())
    # The organisation, never the user's SSIN, goes into the request's log lines.
    structlog.contextvars.bind_contextvars(organisation=principal.enterprise_number, issuer=str(principal.issuer))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


async def refuse_audit_only(principal: CurrentPrincipal) -> None:
    """Mounted on every router but ``/me`` and the audit query: an auditor's token reads the log, nothing else.
    Refused before any person is looked at, like a role that does not belong to its organisation type."""
    if not works_on_dossiers(principal.roles):
        raise MissingPermission("An auditor's token reads the audit log only")
