"""The person guard: the one path to a person. For one person (or each person of a list) and one action, resolve
the caller's *current* links, decide, queue the audit record, and either return a frozen :class:`PersonAccess` or
raise the problem that fits.

Every outcome is audited, once per person per call: permits, denials, and the fail-closed denials when a source is
down (503) or answers garbage (502). The record is provisional until the call ends: the unit of work settles it with
the status the caller got, so a permit followed by a refusal (a role or state check of the use case) is recorded as
that refusal (:mod:`rp_api.authz.audit`). A person the caller may not see is 404 ``resourceNotFound`` (404 before
403); a linked caller whose role does not allow the action gets 403 ``missingPermission``; an old SSIN gets the
CBSS ``replacedSsin`` only when the caller is linked to the person under the new SSIN; an auditor's token is refused
(403) without the person being looked up, and that refusal is recorded too. A list manager's token (§48: the lists,
nothing else) is refused by the policy like any role that may not do the action (403 when linked, 404 when not,
recorded as ``roleNotAllowed``); a list of anything but its decision and hours lists refuses it before any person.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

import structlog
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.audit import AuditRecord, amend, record
from rp_api.authz.guard import LIST_MANAGER_READS_LISTS, OPERATION, principal_of
from rp_api.authz.links import LinkResolver
from rp_api.clients.base import UpstreamBadResponse, UpstreamError, UpstreamUnavailable
from rp_api.clients.national_register import RegisteredPerson
from rp_api.db import session_of
from rp_api.domain.actors import OrganisationType
from rp_api.domain.legal_basis import legal_context
from rp_api.domain.links import PersonLinks
from rp_api.domain.policy import (
    Action,
    Caller,
    Decision,
    Reason,
    decide,
    reads_lists_only,
    role_allows,
    works_on_dossiers,
)
from rp_api.domain.principal import Principal
from rp_api.problems import BadGateway, MissingPermission, Problem, ReplacedSsin, ResourceNotFound, ServiceUnavailable
from rp_api.tracing import trace_id_of

log = structlog.get_logger(__name__)
SOURCE_UNAVAILABLE = "sourceUnavailable"
SOURCE_BAD_RESPONSE = "sourceBadResponse"
MAX_REPLACEMENTS = 5
"""How far a chain of SSIN replacements (A → B → C …) is followed; a longer one is treated as unknown (deny)."""
LIST_CONCURRENCY = 8
"""Persons of a list page whose links are not in memory are resolved this many at a time."""


@dataclass(frozen=True)
class PersonAccess:
    principal: Principal
    ssin: str
    links: PersonLinks
    decision: Decision
    record_id: uuid.UUID
    """The id of this call's audit record for the person (to name the resource once it exists)."""


def problem_for(decision: Decision) -> Problem:
    if decision.reason is Reason.REPLACED_SSIN and decision.replaced_by:
        return ReplacedSsin(decision.replaced_by)
    if decision.reason is Reason.ROLE_NOT_ALLOWED:
        return MissingPermission()
    return ResourceNotFound()


K = TypeVar("K")


def first_per_person(people: Iterable[tuple[str, K]]) -> dict[str, K]:
    """Each person (SSIN) once, with the first resource that names them: one check and one record per person."""
    first: dict[str, K] = {}
    for ssin, resource in people:
        first.setdefault(ssin, resource)
    return first


class _SourceFailedError(Exception):
    def __init__(self, reason: str, problem: Problem) -> None:
        self.reason, self.problem = reason, problem


class PersonGuard:
    def __init__(
        self,
        principal: Principal,
        session: AsyncSession,
        resolver: LinkResolver,
        trace_id: str,
        call_operation: str | None = None,
    ) -> None:
        """``call_operation``: the operationId of the HTTP call; when given, every record names it (the use case's
        own name for the step is used only outside an HTTP call)."""
        self.principal = principal
        self.caller = Caller.of(principal)
        self.session = session
        self.resolver = resolver
        self.trace_id = trace_id
        self.call_operation = call_operation
        self.legal_context = legal_context(principal.organisation_type)
        """The ``Legal-Context`` of the source calls made for this caller (its actor's legal basis)."""

    @classmethod
    def of(cls, request: Request) -> PersonGuard:
        """The guard of this request: its principal, its unit of work's session, the app's link resolver."""
        resolver: LinkResolver = request.app.state.link_resolver
        operation = request.scope.get(OPERATION)
        return cls(
            principal_of(request),
            session_of(request),
            resolver,
            trace_id_of(request.scope) or "",
            operation if isinstance(operation, str) else None,
        )

    def _audit(
        self, ssin: str, about: tuple[str, str, str | None], allowed: bool, reason: str, legal_basis: str | None = None
    ) -> uuid.UUID:
        """Queue the call's record for this person; ``about``: (operation, resource type, resource id)."""
        operation, resource_type, resource_id = about
        entry = AuditRecord.of(
            self.principal,
            trace_id=self.trace_id,
            operation=self.call_operation or operation,
            resource_type=resource_type,
            resource_id=resource_id,
            person_ssin=ssin,
            allowed=allowed,
            reason=reason,
            legal_basis=legal_basis,
        )
        record(self.session, entry)
        return entry.id

    async def _links(
        self, ssin: str, organisation_type: OrganisationType | None = None
    ) -> tuple[PersonLinks, PersonLinks | None]:
        """The person's links as a caller of this type (default: the caller's) needs them and, for a replaced SSIN,
        those of the SSIN that replaces it (chains followed)."""
        kind = organisation_type or self.principal.organisation_type
        try:
            links = await self.resolver.resolve(ssin, kind, trace_id=self.trace_id)
            successor: PersonLinks | None = None
            current = links
            for _ in range(MAX_REPLACEMENTS):
                if current.replaced_by is None:
                    break
                current = await self.resolver.resolve(current.replaced_by, kind, trace_id=self.trace_id)
                successor = current
            if successor is not None and successor.replaced_by is not None:
                successor = None  # a chain too long to follow: nobody is told where it leads
            return links, successor
        except UpstreamUnavailable:
            raise _SourceFailedError(
                SOURCE_UNAVAILABLE, ServiceUnavailable("An authentic source does not answer; access is denied")
            ) from None
        except UpstreamBadResponse:
            raise _SourceFailedError(SOURCE_BAD_RESPONSE, BadGateway()) from None

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

        def audit(allowed: bool, reason: str, legal_basis: str | None = None) -> uuid.UUID:
            return self._audit(ssin, (operation, resource_type, resource_id), allowed, reason, legal_basis)

        if not works_on_dossiers(self.principal.roles):
            audit(False, Reason.AUDIT_ONLY_ROLE)
            raise MissingPermission("An auditor's token reads the audit log only")
        try:
            links, successor = await self._links(ssin)
        except _SourceFailedError as failed:
            audit(False, failed.reason)
            raise failed.problem from None
        decision = decide(self.caller, action, links, successor)
        refused = refine() if decision.allowed and refine is not None else None
        if refused is not None:
            audit(False, refused)
            raise ResourceNotFound()
        record_id = audit(decision.allowed, str(decision.reason), decision.legal_basis)
        if not decision.allowed:
            raise problem_for(decision)
        return PersonAccess(self.principal, ssin, links, decision, record_id)

    async def allows(self, other: Caller, ssin: str, action: Action) -> bool:
        """Whether the policy lets another organisation do this for the person, by that organisation's own links
        (a conversation's participants); a source failing fails the call as for the caller (503/502)."""
        try:
            links, successor = await self._links(ssin, other.organisation_type)
        except _SourceFailedError as failed:
            raise failed.problem from None
        return decide(other, action, links, successor).allowed

    async def routing_links(self, ssin: str) -> PersonLinks:
        """The person's links as work routing needs them (insurer and regional services), for a call that already
        passed the guard; a source failing fails the call (503/502), never a partial set of addressees."""
        try:
            return await self.resolver.routing(ssin, trace_id=self.trace_id, legal_context=self.legal_context)
        except UpstreamUnavailable:
            raise ServiceUnavailable("An authentic source does not answer; try again later") from None
        except UpstreamBadResponse:
            raise BadGateway() from None

    async def registered(self, ssins: Iterable[str]) -> dict[str, RegisteredPerson | None]:
        """For the granted lines of a list: each person's National Register answer (names) through the link caches
        — in this process's memory already, since the line's access decision needed it. None when it cannot be read:
        that line shows no name, and the page is not failed for a name (access was decided already). The log line
        names the source only."""
        found: dict[str, RegisteredPerson | None] = {}
        for ssin in ssins:
            if ssin in found:
                continue
            try:
                found[ssin] = await self.resolver.person(ssin, trace_id=self.trace_id, legal_context=self.legal_context)
            except UpstreamError as exc:
                log.warning("list_name_unavailable", source=exc.source, error_type=type(exc).__name__)
                found[ssin] = None
        return found

    def names(self, access: PersonAccess, *, resource_id: str) -> None:
        """The resource the call created for the person (known only after the decision): named on its record."""
        amend(self.session, access.record_id, resource_id=resource_id)

    async def each(
        self, people: Iterable[tuple[str, uuid.UUID]], action: Action, *, operation: str, resource_type: str
    ) -> set[str]:
        """For a batch that names persons (through their resources): each person through the guard once, each
        recorded. Returns the SSINs the caller may not see (their items are refused as unknown, 404 before 403); a
        source down fails the whole batch (503/502) once every person is recorded."""
        hidden: set[str] = set()
        failure: Problem | None = None
        for ssin, resource_id in first_per_person(people).items():
            try:
                await self(ssin, action, operation=operation, resource_type=resource_type, resource_id=str(resource_id))
            except (ServiceUnavailable, BadGateway) as exc:
                failure = failure or exc
            except Problem:
                hidden.add(ssin)
        if failure is not None:
            raise failure
        return hidden

    async def sift(
        self, people: Sequence[tuple[str, str | None]], action: Action, *, operation: str, resource_type: str
    ) -> dict[str, PersonAccess]:
        """For a list: each distinct person of ``people`` (SSIN, resource id) checked with the caller's current
        links, one audit record per person. Returns the accesses granted, by SSIN; a person missing from the answer
        (no longer linked, deceased…) is left out of the list, and that denial is recorded. When a source the
        decision needs fails for any person, the whole page fails (503/502) once every person is recorded: a list
        never silently drops a line it could not check (a feed consumer would skip it for good).

        Links are resolved for the page in one batch: those this process remembers at once, the others a few at
        a time (single flight and both cache levels as for one person)."""
        first = first_per_person(people)
        if not works_on_dossiers(self.principal.roles):
            raise MissingPermission("An auditor's token reads the audit log only")
        if reads_lists_only(self.principal.roles) and not role_allows(self.principal.roles, action):
            raise MissingPermission(LIST_MANAGER_READS_LISTS)  # names nobody: refused at the door (rp_api.authz.guard)
        gate = asyncio.Semaphore(LIST_CONCURRENCY)

        async def links_of(ssin: str) -> tuple[PersonLinks, PersonLinks | None] | _SourceFailedError:
            try:
                return await self._links(ssin)
            except _SourceFailedError as failed:
                return failed

        async def gated(ssin: str) -> tuple[PersonLinks, PersonLinks | None] | _SourceFailedError:
            async with gate:
                return await links_of(ssin)

        # Those this process remembers are answered from its memory at once (a task, or even a coroutine, each would
        # cost more than the answer); the others are fetched a few at a time.
        organisation_type = self.principal.organisation_type
        answers: dict[str, tuple[PersonLinks, PersonLinks | None] | _SourceFailedError] = {}
        for ssin in first:
            links = self.resolver.remembered(ssin, organisation_type)
            if links is not None:
                answers[ssin] = await links_of(ssin) if links.replaced_by else (links, None)
        cold = [ssin for ssin in first if ssin not in answers]
        if cold:
            answers.update(zip(cold, await asyncio.gather(*(gated(ssin) for ssin in cold)), strict=True))
        found = [answers[ssin] for ssin in first]
        granted: dict[str, PersonAccess] = {}
        failed: _SourceFailedError | None = None
        for (ssin, resource_id), answer in zip(first.items(), found, strict=True):
            if isinstance(answer, _SourceFailedError):
                allowed, reason, basis = False, answer.reason, None
                failed = failed or answer
            else:
                decision = decide(self.caller, action, *answer)
                allowed, reason, basis = decision.allowed, str(decision.reason), decision.legal_basis
            record_id = self._audit(ssin, (operation, resource_type, resource_id), allowed, reason, basis)
            if not isinstance(answer, _SourceFailedError) and decision.allowed:
                granted[ssin] = PersonAccess(self.principal, ssin, answer[0], decision, record_id)
        if failed is not None:
            raise failed.problem
        return granted


PERSON_NAMED = "rp_person_named"
"""Marks the dependency of endpoints that name persons (by SSIN, by a resource of theirs, or a batch of requests):
an auditor's token reaches their guard, which refuses it and records the refusal for each person named. Endpoints
that list whatever the caller's organisation may see name nobody: an auditor's token is refused at the door, and so
is a list manager's, unless the list is one of its own (decisions, hours: :data:`rp_api.authz.guard.LISTS`)."""


async def _person_guard(request: Request) -> PersonGuard:
    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a hand-off that cost ~10 % of a warm GET;
    # no sub-dependencies: FastAPI would solve them again here (see rp_api.authz.guard).
    return PersonGuard.of(request)


async def _list_guard(request: Request) -> PersonGuard:
    return PersonGuard.of(request)


setattr(_person_guard, PERSON_NAMED, True)

GuardedPerson = Annotated[PersonGuard, Depends(_person_guard)]
"""Inject into an endpoint that names a person, then ``access = await guard(ssin, Action.CONSULT_DOSSIER, ...)``."""
GuardedList = Annotated[PersonGuard, Depends(_list_guard)]
"""Inject into an endpoint that lists persons (or changes a batch): ``granted = await guard.sift(...)``."""
