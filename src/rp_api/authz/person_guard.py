"""The person guard: for one person and one action, resolve the links, decide, write the audit record, and
either return a frozen :class:`PersonAccess` or raise the problem that fits.

Every outcome is audited: permits, denials, and the fail-closed denials when a source is down (503) or answers
garbage (502). A person the caller may not see is 404 ``resourceNotFound`` (404 before 403); a linked caller
whose role does not allow the action gets 403 ``missingPermission``; an old SSIN gets the CBSS ``replacedSsin``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.audit import AuditRecord, record
from rp_api.authz.guard import principal_of
from rp_api.authz.links import LinkResolver
from rp_api.authz.principal import Principal
from rp_api.clients.base import UpstreamBadResponse, UpstreamUnavailable
from rp_api.db import session_of
from rp_api.domain.links import PersonLinks
from rp_api.domain.policy import Action, Caller, Decision, Reason, decide
from rp_api.problems import BadGateway, MissingPermission, Problem, ReplacedSsin, ResourceNotFound, ServiceUnavailable
from rp_api.tracing import trace_id_of

SOURCE_UNAVAILABLE = "sourceUnavailable"
SOURCE_BAD_RESPONSE = "sourceBadResponse"


@dataclass(frozen=True)
class PersonAccess:
    principal: Principal
    ssin: str
    links: PersonLinks
    decision: Decision


def problem_for(decision: Decision) -> Problem:
    if decision.reason is Reason.REPLACED_SSIN and decision.replaced_by:
        return ReplacedSsin(decision.replaced_by)
    if decision.reason is Reason.ROLE_NOT_ALLOWED:
        return MissingPermission()
    return ResourceNotFound()


class PersonGuard:
    def __init__(self, request: Request, principal: Principal, session: AsyncSession) -> None:
        self.principal = principal
        self.session = session
        self.resolver: LinkResolver = request.app.state.link_resolver
        self.trace_id = trace_id_of(request.scope) or ""

    async def __call__(
        self,
        ssin: str,
        action: Action,
        *,
        operation: str,
        resource_type: str,
        resource_id: str | None = None,
        refine: Callable[[], str | None] | None = None,
    ) -> PersonAccess:
        """``refine``: a further rule of the resource (e.g. conversation participants); a reason it returns turns a
        permit into a denial (404), audited as such, in the one record of this call."""

        def audit(allowed: bool, reason: str, legal_basis: str | None) -> None:
            record(
                self.session,
                AuditRecord.of(
                    self.principal,
                    trace_id=self.trace_id,
                    operation=operation,
                    resource_type=resource_type,
                    resource_id=resource_id,
                    person_ssin=ssin,
                    allowed=allowed,
                    reason=reason,
                    legal_basis=legal_basis,
                ),
            )

        try:
            links = await self.resolver.resolve(ssin, self.principal.organisation_type, trace_id=self.trace_id)
        except UpstreamUnavailable:
            audit(False, SOURCE_UNAVAILABLE, None)
            raise ServiceUnavailable("An authentic source does not answer; access is denied") from None
        except UpstreamBadResponse:
            audit(False, SOURCE_BAD_RESPONSE, None)
            raise BadGateway() from None
        decision = decide(Caller.of(self.principal), action, links)
        refused = refine() if decision.allowed and refine is not None else None
        if refused is not None:
            audit(False, refused, None)
            raise ResourceNotFound()
        audit(decision.allowed, str(decision.reason), decision.legal_basis)
        if not decision.allowed:
            raise problem_for(decision)
        return PersonAccess(self.principal, ssin, links, decision)


async def _person_guard(request: Request) -> PersonGuard:
    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a hand-off that cost ~10 % of a warm GET;
    # no sub-dependencies: FastAPI would solve them again here (see rp_api.authz.guard).
    return PersonGuard(request, principal_of(request), session_of(request))


GuardedPerson = Annotated[PersonGuard, Depends(_person_guard)]
"""Inject into an endpoint, then ``access = await guard(ssin, Action.CONSULT_DOSSIER, operation=...)``."""
