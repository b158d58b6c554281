"""The authentication dependency. Mounted on every router under ``/rp/v1``
(:func:`rp_api.routers.include_authenticated`), so every API endpoint requires a principal unless it is deliberately
placed elsewhere (``/health``, ``/docs``).

A router's dependencies run before its endpoints' own, so the principal :func:`authenticate` keeps in the request
is there for :data:`CurrentPrincipal` and the person guard to read: plain dependencies without sub-dependencies,
because FastAPI solves a dependency's whole sub-tree again wherever it is declared, cached or not (~25-35 µs a node).
Read outside an authenticated router, there is no principal: 401, fail closed."""

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
from rp_api.domain.policy import reads_lists_only, works_on_dossiers
from rp_api.problems import MissingPermission, NoAccessToken
from rp_api.settings import IssuerSettings, Settings

_PRINCIPAL = "rp.principal"
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
    """Mounted on the routers an auditor's token may use (``/me``, the audit query)."""
    if credentials is None or not credentials.credentials.strip():
        raise NoAccessToken()
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(credentials.credentials.strip())
    # The organisation, never the user's SSIN, goes into the request's log lines.
    structlog.contextvars.bind_contextvars(organisation=principal.enterprise_number, issuer=str(principal.issuer))
    request.scope[_PRINCIPAL] = principal
    return principal


async def authenticate_working_role(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Principal:
    """Mounted on every other router: an auditor's token reads the log, nothing else, and a list manager's reads its
    organisation's decision and hours lists (§48), nothing else. On an endpoint that names nobody (a list, the feed)
    they are refused here, before any person is looked at, like a role that does not belong to its organisation
    type; on one that names a person, by the person guard, which records the refusal for that person. (One
    dependency, not two: each costs FastAPI ~25-35 µs a call.)"""
    principal = await authenticate(request, credentials)
    if request.scope.get(PERSON_NAMED_CALL):
        return principal  # the person guard refuses (and records) what the caller's roles may not do for the person
    if not works_on_dossiers(principal.roles):
        raise MissingPermission("An auditor's token reads the audit log only")
    if reads_lists_only(principal.roles) and request.scope.get(OPERATION) not in LISTS:
        raise MissingPermission(LIST_MANAGER_READS_LISTS)
    return principal


LISTS = frozenset({"listDecisions", "listHours", "listFollowUps"})
"""The operations of a list manager's lists (deliberation 26/060 §48: the decision list, JSON or CSV, and the hours
list): the only ones, with ``getMe``, that a token holding no working role but ``listManager`` may call."""
LIST_MANAGER_READS_LISTS = "A list manager reads the decision and hours lists only"

OPERATION = "rp.operation"
"""The operationId of the call (set by the route class): the operation every audit record of the call names."""
PERSON_NAMED_CALL = "rp.person_named"
"""Set by the route class for an endpoint that names one person: there an auditor's token is refused by the person
guard, once the person is known, so that the refusal is recorded for that person."""


def refuse_audit_only(request: Request) -> None:
    """An auditor's token gets 403 from an endpoint that names a person, whatever the call met on its way (its guard
    refuses it and records the refusal; should a path skip the guard, the call is refused here and rolled back)."""
    principal = request.scope.get(_PRINCIPAL)
    if isinstance(principal, Principal) and not works_on_dossiers(principal.roles):
        raise MissingPermission("An auditor's token reads the audit log only")


def principal_of(request: Request) -> Principal:
    """The principal :func:`authenticate` established for this request; none (not an authenticated route): 401."""
    principal = request.scope.get(_PRINCIPAL)
    if not isinstance(principal, Principal):
        raise NoAccessToken()
    return principal


async def _current_principal(request: Request) -> Principal:
    return principal_of(request)


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]
