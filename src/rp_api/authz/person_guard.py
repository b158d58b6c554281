"""The person guard: the one path to a person. For one person (or each person of a list) and one action, resolve
the caller's *current* links, decide, queue the audit record, and either return a frozen :class:`PersonAccess` or
raise the problem that fits.

Every outcome is audited, once per person per call: permits, denials, and the fail-closed denials when a source is
down (503) or answers garbage (502). The record is provisional until the call ends: the unit of work settles it with
the status the caller got, so a permit followed by a refusal (a role or state check of the use case) is recorded as
that refusal (:mod:`rp_api.authz.audit`). A person the caller may not see is 404 ``resourceNotFound`` (404 before
403); a linked caller whose role does not allow the action gets 403 ``missingPermission``; an auditor's token is
refused (403) without the person being looked up, and that refusal is recorded too.

The person's identity over time (deliberation 26/060 §7): an SSIN the National Register replaced (chains A → B → C
followed, at most :data:`MAX_REPLACEMENTS` hops) names the person it names now. A caller linked to the person under
the current SSIN (INAMI always) is decided on that SSIN's links and the call goes on as a call about it: the
access's ``ssin`` is the current one, its record names it, and the person's dossier follows them there — moved, or
merged with the one stored under another of their SSINs (:mod:`rp_api.services.identity`, in the call's unit of
work), each such change recorded under the SSIN the dossier was stored under. Anyone not linked under the current
SSIN gets exactly what an unlinked caller gets (404, recorded under the SSIN it named): a successor cannot be
probed. A call naming the current SSIN finds the dossier still stored under an earlier one the same way (the
register lists a current SSIN's earlier ones). A list manager's token (§48: the lists,
nothing else) is refused by the policy like any role that may not do the action (403 when linked, 404 when not,
recorded as ``roleNotAllowed``); a list of anything but its decision and hours lists refuses it before any person.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from rp_api.domain import identity as rules
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
from rp_api.problems import (
    BadGateway,
    MissingPermission,
    Problem,
    ResourceNotFound,
    ServiceUnavailable,
    TransitionNotAllowed,
)
from rp_api.services import identity
from rp_api.services.identity import NOTHING, Followed
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
    """The person's current SSIN: the one the call named or, when the National Register replaced it, the one that
    replaces it now (the call is about that one: every use of the SSIN after the guard takes this one)."""
    links: PersonLinks
    """The person's links under :attr:`ssin`, on which the decision was taken."""
    decision: Decision
    record_id: uuid.UUID
    """The id of this call's audit record for the person (to name the resource once it exists)."""
    named_ssin: str = ""
    """The SSIN the call named (a replaced one, or the current one)."""
    moved: bool = False
    """Whether this check moved or merged the person's dossiers (to the current SSIN)."""

    @property
    def follows_identity(self) -> bool:
        """Whether the person has had other SSINs (the one named was replaced, or the register lists earlier ones):
        the guard may have moved or merged their dossiers, in this call or in one it waited for, so a dossier the
        call read before the guard without holding it in its session is read again."""
        return self.moved or self.named_ssin != self.ssin or bool(self.links.previous_ssins)


def problem_for(decision: Decision) -> Problem:
    """The answer to a denial. A replaced SSIN is never answered with the CBSS ``replacedSsin`` problem any more: a
    caller linked under the new SSIN goes on (the call is about it), anyone else gets 404 as for an unlinked person
    (:func:`rp_api.domain.policy.decide`)."""
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


@dataclass(frozen=True)
class _Resolved:
    """A person's links as the policy needs them, for the SSIN a call named."""

    links: PersonLinks
    """Under the SSIN named."""
    successor: PersonLinks | None
    """For a replaced SSIN: under the SSIN that replaces it now (the end of the chain), None when the chain could
    not be followed to its end (longer than :data:`MAX_REPLACEMENTS`)."""
    chain: tuple[str, ...]
    """The SSINs followed, the one named first."""


@dataclass(frozen=True)
class _Outcome:
    """The decision on one SSIN named, and whom the call is about."""

    named: str
    decision: Decision
    links: PersonLinks
    """The links the decision was taken on (the current SSIN's when the call follows a replacement)."""
    chain: tuple[str, ...]

    @property
    def person(self) -> str:
        """The SSIN the call's record names: the current one for a caller linked under it, else the one named (an
        organisation not linked under the new SSIN learns nothing of it, not even through its audit log)."""
        return self.links.ssin if self.decision.replaced_by is not None else self.named


CONFLICT_MERGED = "The dossier was merged with the person's other dossier meanwhile: read it again"


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

    async def _links(self, ssin: str, organisation_type: OrganisationType | None = None) -> _Resolved:
        """The person's links as a caller of this type (default: the caller's) needs them and, for a replaced SSIN,
        those of the SSIN that replaces it now (chains followed, at most :data:`MAX_REPLACEMENTS` hops)."""
        kind = organisation_type or self.principal.organisation_type
        try:
            links = await self.resolver.resolve(ssin, kind, trace_id=self.trace_id)
            successor: PersonLinks | None = None
            chain = [ssin]
            current = links
            for _ in range(MAX_REPLACEMENTS):
                if current.replaced_by is None or current.replaced_by in chain:
                    break
                current = await self.resolver.resolve(current.replaced_by, kind, trace_id=self.trace_id)
                successor = current
                chain.append(current.ssin)
            if successor is not None and successor.replaced_by is not None:
                successor = None  # a chain too long to follow (or a loop): nobody is told where it leads
            return _Resolved(links, successor, tuple(chain))
        except UpstreamUnavailable:
            raise _SourceFailedError(
                SOURCE_UNAVAILABLE, ServiceUnavailable("An authentic source does not answer; access is denied")
            ) from None
        except UpstreamBadResponse:
            raise _SourceFailedError(SOURCE_BAD_RESPONSE, BadGateway()) from None

    def _decide(self, named: str, action: Action, resolved: _Resolved, caller: Caller | None = None) -> _Outcome:
        decision = decide(caller or self.caller, action, resolved.links, resolved.successor)
        if decision.replaced_by is not None and resolved.successor is not None:
            return _Outcome(named, decision, resolved.successor, resolved.chain)
        return _Outcome(named, decision, resolved.links, resolved.chain)

    async def _follow(self, outcomes: Sequence[_Outcome], about: tuple[str, str, str | None]) -> Followed:
        """After a permit: the person's dossier follows them to their current SSIN (:mod:`rp_api.services.identity`),
        and each dossier moved or merged is recorded (one record per earlier SSIN, see
        :func:`rp_api.domain.identity.records`). ``outcomes``: the SSINs of the call that name this one person."""
        current = outcomes[0].links
        earlier = rules.earlier_ssins(current.ssin, *(outcome.chain for outcome in outcomes), current.previous_ssins)
        if not earlier:
            return NOTHING
        hops = [hop for outcome in outcomes for hop in rules.chain_hops(outcome.chain)]
        try:
            followed = await identity.follow(
                self.session,
                current_ssin=current.ssin,
                earlier=earlier,
                known_hops=hops,
                successor_of=self._successor_of,
                trace_id=self.trace_id,
            )
        except UpstreamUnavailable:
            raise ServiceUnavailable("An authentic source does not answer; try again later") from None
        except UpstreamBadResponse:
            raise BadGateway() from None
        if followed.plan is not None:
            operation, _, _ = about
            for entry in rules.records(followed.plan):
                self._audit(
                    entry.ssin,
                    (operation, entry.resource_type, str(entry.resource_id)),
                    True,
                    Reason.REPLACED_SSIN,
                    rules.FOLLOWED_BASIS,
                )
        return followed

    async def _successor_of(self, ssin: str) -> str | None:
        """The SSIN the National Register says replaced this one (an earlier SSIN known only from a current one's
        list), through the link caches."""
        person = await self.resolver.person(ssin, trace_id=self.trace_id, legal_context=self.legal_context)
        return person.replaced_by if person is not None else None

    async def __call__(
        self,
        ssin: str,
        action: Action,
        *,
        operation: str,
        resource_type: str,
        resource_id: str | None = None,
        refine: Callable[[], str | None] | None = None,
        named: bool = False,
    ) -> PersonAccess:
        """``refine``: a further rule of the resource (e.g. conversation participants); a reason it returns turns a
        permit into a denial (404), audited as such, in the one record of this call. ``named``: the caller named
        ``ssin`` (a lookup); otherwise it is the SSIN of something stored that the caller reached (an id it holds),
        and a refusal names an SSIN the caller's organisation already knows (:meth:`_name_refusals`).

        A replaced SSIN, for a caller linked to the person under the SSIN that replaces it now, is followed: the
        call goes on about that SSIN (the access's :attr:`PersonAccess.ssin`), its record names it, and the
        person's dossier follows them there (moved, or merged with the one already there)."""
        about = (operation, resource_type, resource_id)
        if not works_on_dossiers(self.principal.roles):
            await self._name_refusals({self._audit(ssin, about, False, Reason.AUDIT_ONLY_ROLE): ssin}, named=named)
            raise MissingPermission("An auditor's token reads the audit log only")
        try:
            resolved = await self._links(ssin)
        except _SourceFailedError as failed:
            await self._name_refusals({self._audit(ssin, about, False, failed.reason): ssin}, named=named)
            raise failed.problem from None
        outcome = self._decide(ssin, action, resolved)
        decision = outcome.decision
        refused = refine() if decision.allowed and refine is not None else None
        if refused is not None:
            self._audit(outcome.person, about, False, refused)  # linked under it: the caller knows this SSIN
            raise ResourceNotFound()
        record_id = self._audit(outcome.person, about, decision.allowed, str(decision.reason), decision.legal_basis)
        if not decision.allowed:
            if decision.replaced_by is None:  # not followed: the record names the SSIN stored (or named)
                await self._name_refusals({record_id: ssin}, named=named)
            raise problem_for(decision)
        followed = await self._follow([outcome], about)
        if followed.vanished:
            raise TransitionNotAllowed(CONFLICT_MERGED)
        moved = followed.plan is not None
        return PersonAccess(self.principal, outcome.links.ssin, outcome.links, decision, record_id, ssin, moved)

    async def _name_refusals(self, refusals: Mapping[uuid.UUID, str], *, named: bool = False) -> None:
        """Queued refusals of persons the caller reached through something stored (record id → the SSIN stored),
        unless ``named`` (the caller named the SSIN: its refusal names it). When the stored SSIN replaced
        earlier ones, a refusal names the SSIN under which the caller's organisation last saw the person, else the
        person's first SSIN (:func:`rp_api.domain.identity.refusal_names`): an organisation no longer
        linked to the person learns their new SSIN from none of its answers, its own audit log included. The person
        is the same: INAMI's audit query for them covers every SSIN. The records are queued before the lookup, so a
        failing lookup loses none of them (they keep the stored SSIN)."""
        if named or not refusals:
            return
        known = await identity.refusal_ssins(
            self.session, organisation=self.principal.enterprise_number, ssins=refusals.values()
        )
        for record_id, ssin in refusals.items():
            if known.get(ssin, ssin) != ssin:
                amend(self.session, record_id, person_ssin=known[ssin])

    async def allows(self, other: Caller, ssin: str, action: Action) -> bool:
        """Whether the policy lets another organisation do this for the person, by that organisation's own links
        (a conversation's participants); a source failing fails the call as for the caller (503/502)."""
        try:
            resolved = await self._links(ssin, other.organisation_type)
        except _SourceFailedError as failed:
            raise failed.problem from None
        return self._decide(ssin, action, resolved, other).decision.allowed

    async def routing_links(self, ssin: str) -> PersonLinks:
        """The person's links as work routing needs them (insurer and regional services), for a call that already
        passed the guard (give it the access's current SSIN); a source failing fails the call (503/502), never a
        partial set of addressees."""
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
        source down fails the whole batch (503/502) once every person is recorded. SSINs of one person (a replaced
        one and its successor) are one person: checked and recorded once."""
        first = {ssin: str(resource_id) for ssin, resource_id in first_per_person(people).items()}
        if not works_on_dossiers(self.principal.roles):
            refusals = {
                self._audit(ssin, (operation, resource_type, resource_id), False, Reason.AUDIT_ONLY_ROLE): ssin
                for ssin, resource_id in first.items()
            }
            await self._name_refusals(refusals)
            return set(first)
        answers: dict[str, _Resolved | _SourceFailedError] = {}
        for ssin in first:
            try:
                answers[ssin] = await self._links(ssin)
            except _SourceFailedError as failed:
                answers[ssin] = failed
        granted = await self._settle(first, answers, action, operation, resource_type)
        return set(first) - set(granted)

    async def sift(
        self, people: Sequence[tuple[str, str | None]], action: Action, *, operation: str, resource_type: str
    ) -> dict[str, PersonAccess]:
        """For a list: each distinct person of ``people`` (SSIN, resource id) checked with the caller's current
        links, one audit record per person. Returns the accesses granted, by the SSIN the line names (the access
        names the person's current SSIN); a person missing from the answer (no longer linked, deceased…) is left out
        of the list, and that denial is recorded. When a source the decision needs fails for any person, the whole
        page fails (503/502) once every person is recorded: a list never silently drops a line it could not check
        (a feed consumer would skip it for good).

        Links are resolved for the page in one batch: those this process remembers at once, the others a few at
        a time (single flight and both cache levels as for one person). A line under a replaced SSIN is decided
        on the SSIN that replaces it (the person's dossier follows them there, as for one person); a person named
        under two of their SSINs is recorded once."""
        first = first_per_person(people)
        if not works_on_dossiers(self.principal.roles):
            raise MissingPermission("An auditor's token reads the audit log only")
        if reads_lists_only(self.principal.roles) and not role_allows(self.principal.roles, action):
            raise MissingPermission(LIST_MANAGER_READS_LISTS)  # names nobody: refused at the door (rp_api.authz.guard)
        gate = asyncio.Semaphore(LIST_CONCURRENCY)

        async def links_of(ssin: str) -> _Resolved | _SourceFailedError:
            try:
                return await self._links(ssin)
            except _SourceFailedError as failed:
                return failed

        async def gated(ssin: str) -> _Resolved | _SourceFailedError:
            async with gate:
                return await links_of(ssin)

        # Those this process remembers are answered from its memory at once (a task, or even a coroutine, each would
        # cost more than the answer); the others are fetched a few at a time.
        organisation_type = self.principal.organisation_type
        answers: dict[str, _Resolved | _SourceFailedError] = {}
        for ssin in first:
            links = self.resolver.remembered(ssin, organisation_type)
            if links is not None:
                answers[ssin] = await links_of(ssin) if links.replaced_by else _Resolved(links, None, (ssin,))
        cold = [ssin for ssin in first if ssin not in answers]
        if cold:
            answers.update(zip(cold, await asyncio.gather(*(gated(ssin) for ssin in cold)), strict=True))
        return await self._settle(first, answers, action, operation, resource_type)

    async def _settle(
        self,
        first: Mapping[str, str | None],
        answers: Mapping[str, _Resolved | _SourceFailedError],
        action: Action,
        operation: str,
        resource_type: str,
    ) -> dict[str, PersonAccess]:
        """Decide each SSIN named (``first``: SSIN → the resource of its first line) on its links (``answers``),
        record each person once (SSINs that name one person share its record), follow each granted person's
        replacement (their dossier moves or merges), fail the batch if a source failed. The accesses granted, by SSIN
        named."""
        failed: _SourceFailedError | None = None
        recorded: dict[str, uuid.UUID] = {}
        refusals: dict[uuid.UUID, str] = {}  # of persons not followed to a current SSIN: named as the caller knows them
        permitted: dict[str, list[_Outcome]] = {}
        abouts: dict[str, tuple[str, str, str | None]] = {}
        for ssin, resource_id in first.items():
            answer = answers[ssin]
            about = (operation, resource_type, resource_id)
            if isinstance(answer, _SourceFailedError):
                failed = failed or answer
                if ssin not in recorded:
                    recorded[ssin] = self._audit(ssin, about, False, answer.reason)
                    refusals[recorded[ssin]] = ssin
                continue
            outcome = self._decide(ssin, action, answer)
            decision = outcome.decision
            person = outcome.person
            if person not in recorded:
                recorded[person] = self._audit(
                    person, about, decision.allowed, str(decision.reason), decision.legal_basis
                )
                abouts[person] = about
                if not decision.allowed and decision.replaced_by is None:
                    refusals[recorded[person]] = person
            if decision.allowed:
                permitted.setdefault(person, []).append(outcome)
        await self._name_refusals(refusals)
        if failed is not None:
            raise failed.problem
        granted: dict[str, PersonAccess] = {}
        for person, outcomes in permitted.items():
            moved = (await self._follow(outcomes, abouts[person])).plan is not None
            for outcome in outcomes:
                granted[outcome.named] = PersonAccess(
                    self.principal,
                    outcome.links.ssin,
                    outcome.links,
                    outcome.decision,
                    recorded[person],
                    outcome.named,
                    moved,
                )
        return {ssin: granted[ssin] for ssin in first if ssin in granted}


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
