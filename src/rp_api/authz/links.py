"""Link resolution: what the authentic sources say about a person, fetched for the caller's type, concurrently,
through two cache levels — this process's memory (bounded, least recently used out), then a PostgreSQL cache
shared by every replica — each answer reused for the time to live counted from when it was *fetched* (24 hours at
most), one upstream call per source and subject however many requests ask at once (single flight within a process).
The PostgreSQL cache has a connection pool of its own, so a request holding its session's connection never waits
for one that another request holds.

What each organisation type needs (always the National Register too, for death and SSIN changes):
- insurer: MemberData (one round trip);
- regional service: JobSeeker (one round trip);
- prevention service: Dimona, then SEED-Connect for every employer in parallel (two round trips);
- INAMI: nothing more.

Every source call carries, in its ``Legal-Context`` header, the legal basis of the organisation type it is made
for (:mod:`rp_api.domain.legal_basis`): :meth:`LinkResolver.resolve` that of the type it resolves for; the other
methods take the caller's as ``legal_context`` (the general one without it). An answer, once cached, serves every
organisation type: its header documents the call that fetched it.

A dossier shows more than the decision needs (:meth:`LinkResolver.enrich`): there a source that fails only leaves
its block empty (None), and the :class:`Enrichment` names it (``failures``), so that one source down does not stop
every organisation from reading dossiers. The decision itself never degrades: :meth:`LinkResolver.resolve` raises.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar, cast

import structlog
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rp_api import metrics
from rp_api.clients import Upstreams
from rp_api.clients.base import LEGAL_CONTEXT, UpstreamBadResponse, UpstreamError, UpstreamModel
from rp_api.clients.dimona import Employer
from rp_api.clients.job_seeker import Registration
from rp_api.clients.member_data import InsurerAffiliation
from rp_api.clients.national_register import RegisteredPerson
from rp_api.clients.seed_connect import PreventionService
from rp_api.domain import legal_basis
from rp_api.domain.actors import OrganisationType
from rp_api.domain.links import Employment, PersonLinks
from rp_api.problems import BadGateway, ServiceUnavailable
from rp_api.repositories import link_cache

log = structlog.get_logger(__name__)
T = TypeVar("T")
_ABSENT = {"absent": True}
_NOT_IN_MEMORY = object()


SOURCES = ("nationalRegister", "memberData", "jobSeeker", "dimona", "seedConnect", "pseudonymisation", "trio")
"""Every authentic source, by the name the API gives it (the clients' ``source``), in the order answers list them."""


class FailureKind(StrEnum):
    UNAVAILABLE = "unavailable"
    """No answer in time, or 5xx/429 after the retries (a decision that needs it: 503 ``serviceUnavailable``)."""
    BAD_RESPONSE = "badResponse"
    """An answer that cannot be trusted (a decision that needs it: 502 ``badGateway``)."""


@dataclass(frozen=True)
class SourceFailure:
    source: str
    kind: FailureKind

    @classmethod
    def of(cls, error: UpstreamError) -> SourceFailure:
        kind = FailureKind.BAD_RESPONSE if isinstance(error, UpstreamBadResponse) else FailureKind.UNAVAILABLE
        return cls(error.source, kind)


@dataclass(frozen=True)
class Enrichment:
    """What a dossier shows of the person, from the authentic sources (never stored beyond the link cache).

    A block whose source failed is None and the source is in ``failures``; None without a failure means the source
    answered that there is nothing (no insurer, an SSIN the National Register does not know)."""

    person: RegisteredPerson | None
    affiliation: InsurerAffiliation | None
    employers: tuple[tuple[Employer, tuple[PreventionService, ...] | None], ...] | None
    """None when Dimona failed; an employer's prevention services None when SEED-Connect failed for it."""
    registrations: tuple[Registration, ...] | None
    """None when JobSeeker failed."""
    trio_dossier_exists: bool | None
    """None when not asked for, or when TRIO (or the pseudonymisation before it) failed."""
    failures: tuple[SourceFailure, ...] = ()

    @property
    def unavailable_sources(self) -> tuple[str, ...]:
        """The sources that failed, each once, in the order of :data:`SOURCES`."""
        failed = {failure.source for failure in self.failures}
        return tuple(source for source in SOURCES if source in failed)

    def failed(self, source: str) -> bool:
        return any(failure.source == source for failure in self.failures)

    def require(self, *sources: str) -> None:
        """For a use that cannot do without these sources (a write): fail closed as the person guard does, 503
        ``serviceUnavailable`` (502 ``badGateway`` when one answered garbage)."""
        needed = [failure for failure in self.failures if failure.source in sources]
        if any(failure.kind is FailureKind.BAD_RESPONSE for failure in needed):
            raise BadGateway()
        if needed:
            raise ServiceUnavailable("An authentic source does not answer; try again later")


class LinkResolver:
    def __init__(
        self,
        upstreams: Upstreams,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        ttl_s: int,
        trio_domain: str = "trio",
        memory_entries: int = 20_000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.upstreams = upstreams
        self.trio_domain = trio_domain
        self.sessionmaker = sessionmaker
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock
        self._in_flight: dict[tuple[str, str], asyncio.Task[Any]] = {}
        self._memory: OrderedDict[tuple[str, str], tuple[datetime, Any]] = OrderedDict()
        self._memory_entries = memory_entries

    def forget(self) -> None:
        """Empty this process's memory level (the PostgreSQL level is left as it is)."""
        self._memory.clear()

    def remembered(self, ssin: str, organisation_type: OrganisationType) -> PersonLinks | None:
        """The links :meth:`resolve` would give, when this process's memory holds every answer they are made of;
        else None (then :meth:`resolve`). A list page checks its remembered persons this way, without a coroutine
        per source (~7 µs a person instead of ~15)."""
        now = self.clock()

        def fresh(source: str, subject: str) -> Any:
            found = self._memory.get((source, subject))
            return _NOT_IN_MEMORY if found is None or found[0] <= now - self.ttl else found[1]

        person = fresh("nationalRegister", ssin)
        if person is _NOT_IN_MEMORY:
            return None
        match organisation_type:
            case OrganisationType.INSURER:
                affiliation = fresh("memberData", ssin)
                if affiliation is _NOT_IN_MEMORY:
                    return None
                return _links(ssin, person, insurer_oa_number=affiliation.oa_number if affiliation else None)
            case OrganisationType.REGIONAL_SERVICE:
                registrations = fresh("jobSeeker", ssin)
                if registrations is _NOT_IN_MEMORY:
                    return None
                services = frozenset(r.regional_service for r in registrations or [])
                return _links(ssin, person, regional_services=services)
            case OrganisationType.PREVENTION_SERVICE:
                employers = fresh("dimona", ssin)
                if employers is _NOT_IN_MEMORY:
                    return None
                employments = []
                for employer in employers or []:
                    services = fresh("seedConnect", employer.enterprise_number)
                    if services is _NOT_IN_MEMORY:
                        return None
                    found = frozenset(s.enterprise_number for s in services or [])
                    employments.append(Employment(employer.enterprise_number, found))
                return _links(ssin, person, employments=tuple(employments))
            case _:
                return _links(ssin, person)

    async def resolve(self, ssin: str, organisation_type: OrganisationType, *, trace_id: str | None) -> PersonLinks:
        """The links the policy needs for a caller of this type, each source asked under that type's legal basis.
        Raises the clients' Upstream* errors."""
        today = self.clock().date()
        register = ("nationalRegister", ssin)
        context = legal_basis.legal_context(organisation_type)
        match organisation_type:
            case OrganisationType.INSURER:
                person, affiliation = await self._together(
                    (register, ("memberData", ssin)),
                    self._national_register(ssin, trace_id, context),
                    self._member_data(ssin, today, trace_id, context),
                )
                return _links(ssin, person, insurer_oa_number=affiliation.oa_number if affiliation else None)
            case OrganisationType.REGIONAL_SERVICE:
                person, registrations = await self._together(
                    (register, ("jobSeeker", ssin)),
                    self._national_register(ssin, trace_id, context),
                    self._job_seeker(ssin, trace_id, context),
                )
                return _links(ssin, person, regional_services=frozenset(r.regional_service for r in registrations))
            case OrganisationType.PREVENTION_SERVICE:
                person, employments = await self._together(
                    (register, ("dimona", ssin)),
                    self._national_register(ssin, trace_id, context),
                    self._employments(ssin, today, trace_id, context),
                )
                return _links(ssin, person, employments=employments)
            case _:
                return _links(ssin, await self._national_register(ssin, trace_id, context))

    async def routing(self, ssin: str, *, trace_id: str | None, legal_context: str = LEGAL_CONTEXT) -> PersonLinks:
        """The links work routing needs (the person's insurer and regional services, National Register for the
        rest): who an item is addressed to. Raises the clients' Upstream* errors, as :meth:`resolve` does — an item
        is never routed to a partial set of addressees."""
        today = self.clock().date()
        person, affiliation, registrations = await self._together(
            (("nationalRegister", ssin), ("memberData", ssin), ("jobSeeker", ssin)),
            self._national_register(ssin, trace_id, legal_context),
            self._member_data(ssin, today, trace_id, legal_context),
            self._job_seeker(ssin, trace_id, legal_context),
        )
        return _links(
            ssin,
            person,
            insurer_oa_number=affiliation.oa_number if affiliation else None,
            regional_services=frozenset(r.regional_service for r in registrations),
        )

    async def person(
        self, ssin: str, *, trace_id: str | None, legal_context: str = LEGAL_CONTEXT
    ) -> RegisteredPerson | None:
        """The National Register's answer (name, birth and death dates), through both cache levels; a list line's
        person is in memory already, since its access decision needed it. Raises the clients' Upstream* errors."""
        return await self._national_register(ssin, trace_id, legal_context)

    async def enrich(
        self, ssin: str, *, with_trio: bool, trace_id: str | None, legal_context: str = LEGAL_CONTEXT
    ) -> Enrichment:
        """Everything a dossier shows, every source at once (most answers are already cached by the decision).

        Never raises the clients' Upstream* errors: a source that fails leaves its block None and is named in the
        answer's ``failures`` (the caller's access was decided before, on the sources the decision needs)."""
        today = self.clock().date()
        failures: list[SourceFailure] = []
        sources = ["nationalRegister", "memberData", "jobSeeker", "dimona", *(["trio"] if with_trio else [])]
        person, affiliation, registrations, employers, trio = await self._together(
            [(source, ssin) for source in sources],
            _or_none(self._national_register(ssin, trace_id, legal_context), failures),
            _or_none(self._member_data(ssin, today, trace_id, legal_context), failures),
            _or_none(self._job_seeker(ssin, trace_id, legal_context), failures),
            self._employers_shown(ssin, today, trace_id, legal_context, failures),
            _or_none(self._trio(ssin, trace_id, legal_context), failures) if with_trio else _nothing(),
        )
        return Enrichment(
            person,
            affiliation,
            employers,
            None if registrations is None else tuple(registrations),
            trio,
            tuple(failures),
        )

    async def _together(self, keys: Iterable[tuple[str, str]], *calls: Awaitable[Any]) -> list[Any]:
        """``asyncio.gather(*calls)``, without its tasks when the memory holds every answer the calls look up
        (``keys``): then they are awaited one by one, none waits on anything, and the request does not go round
        the event loop behind every other request (measured: ~15 ms of a warm dossier GET at 16 connections, and
        ~1.5 % of its CPU for the tasks). A key missing from ``keys`` is still answered, only without overlap."""
        if not all(self._recall(key) is not _NOT_IN_MEMORY for key in keys):
            return list(await asyncio.gather(*calls))
        answers = []
        for index, call in enumerate(calls):
            try:
                answers.append(await call)
            except BaseException:
                for unstarted in calls[index + 1 :]:
                    if asyncio.iscoroutine(unstarted):
                        unstarted.close()
                raise
        return answers

    async def _employers_with_services(
        self, ssin: str, today: date, trace_id: str | None, context: str
    ) -> tuple[tuple[Employer, tuple[PreventionService, ...]], ...]:
        employers = await self._current_employers(ssin, today, trace_id, context)
        services = await self._together(
            [("seedConnect", employer.enterprise_number) for employer in employers or []],
            *(self._prevention_services(employer.enterprise_number, trace_id, context) for employer in employers or []),
        )
        return tuple((e, tuple(found)) for e, found in zip(employers or [], services, strict=True))

    async def _employers_shown(
        self, ssin: str, today: date, trace_id: str | None, context: str, failures: list[SourceFailure]
    ) -> tuple[tuple[Employer, tuple[PreventionService, ...] | None], ...] | None:
        """As :meth:`_employers_with_services`, for display: None when Dimona fails, and an employer's services
        None when SEED-Connect fails for it (the other employers are still shown)."""
        try:
            employers = await self._current_employers(ssin, today, trace_id, context)
        except UpstreamError as exc:
            _note(exc, failures)
            return None
        services = await self._together(
            [("seedConnect", employer.enterprise_number) for employer in employers or []],
            *(
                _or_none(self._prevention_services(employer.enterprise_number, trace_id, context), failures)
                for employer in employers or []
            ),
        )
        return tuple(
            (e, None if found is None else tuple(found)) for e, found in zip(employers or [], services, strict=True)
        )

    async def _current_employers(
        self, ssin: str, today: date, trace_id: str | None, context: str
    ) -> list[Employer] | None:
        return await self._cached(
            "dimona",
            ssin,
            lambda: self.upstreams.dimona.current_employers(
                ssin=ssin, on=today, trace_id=trace_id, legal_context=context
            ),
            list[Employer],
        )

    async def _trio(self, ssin: str, trace_id: str | None, context: str) -> bool:
        """Whether TRIO has a dossier for the person: their pseudonym in TRIO's domain (eHealth's blinded
        pseudonymisation: the SSIN never leaves in clear), then TRIO asked about that pseudonym."""

        async def ask() -> TrioAnswer:
            pseudonym = await self.upstreams.pseudonymisation.pseudonym(
                ssin=ssin, domain=self.trio_domain, trace_id=trace_id, legal_context=context
            )
            exists = await self.upstreams.trio.dossier_exists(
                pseudonym=pseudonym.pseudonym, trace_id=trace_id, legal_context=context
            )
            return TrioAnswer(exists=exists)

        answer = await self._cached("trio", ssin, ask, TrioAnswer)
        return answer.exists

    async def _national_register(self, ssin: str, trace_id: str | None, context: str) -> RegisteredPerson | None:
        return await self._cached(
            "nationalRegister",
            ssin,
            lambda: self.upstreams.national_register.person(ssin=ssin, trace_id=trace_id, legal_context=context),
            RegisteredPerson,
        )

    async def _member_data(
        self, ssin: str, today: date, trace_id: str | None, context: str
    ) -> InsurerAffiliation | None:
        return await self._cached(
            "memberData",
            ssin,
            lambda: self.upstreams.member_data.affiliation(
                ssin=ssin, on=today, trace_id=trace_id, legal_context=context
            ),
            InsurerAffiliation,
        )

    async def _job_seeker(self, ssin: str, trace_id: str | None, context: str) -> list[Registration]:
        found = await self._cached(
            "jobSeeker",
            ssin,
            lambda: self.upstreams.job_seeker.registrations(ssin=ssin, trace_id=trace_id, legal_context=context),
            list[Registration],
        )
        return found or []

    async def _employments(self, ssin: str, today: date, trace_id: str | None, context: str) -> tuple[Employment, ...]:
        return tuple(
            Employment(employer.enterprise_number, frozenset(s.enterprise_number for s in found))
            for employer, found in await self._employers_with_services(ssin, today, trace_id, context)
        )

    async def _prevention_services(self, employer: str, trace_id: str | None, context: str) -> list[PreventionService]:
        found = await self._cached(
            "seedConnect",
            employer,
            lambda: self.upstreams.seed_connect.prevention_services(
                employer=employer, trace_id=trace_id, legal_context=context
            ),
            list[PreventionService],
        )
        return found or []

    async def _cached(self, source: str, subject: str, fetch: Callable[[], Awaitable[T]], shape: Any) -> T:
        """Memory, else one flight per (source, subject) — PostgreSQL, else the source — that every concurrent
        caller shares."""
        key = (source, subject)
        remembered = self._recall(key)
        metrics.count_link_cache("memory", source, hit=remembered is not _NOT_IN_MEMORY)
        if remembered is not _NOT_IN_MEMORY:
            return cast(T, remembered)
        flight = self._in_flight.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._load(key, fetch, shape))
            self._in_flight[key] = flight
            flight.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return cast(T, await asyncio.shield(flight))

    def _recall(self, key: tuple[str, str]) -> Any:
        """The answer this process remembers, if still fresh, else ``_NOT_IN_MEMORY``."""
        remembered = self._memory.get(key)
        if remembered is None or remembered[0] <= self.clock() - self.ttl:
            return _NOT_IN_MEMORY
        self._memory.move_to_end(key)
        return remembered[1]

    async def _load(self, key: tuple[str, str], fetch: Callable[[], Awaitable[Any]], shape: Any) -> Any:
        """PostgreSQL's answer if fresh; else, under the advisory lock of this source and subject (other processes
        and replicas asking at the same moment wait on it), PostgreSQL again — another process may have just
        stored it — and only then the source, whose answer is stored before the lock is let go."""
        source, subject = key
        now = self.clock()
        async with self.sessionmaker() as session:
            cached = await link_cache.fresh(session, source=source, subject=subject, fetched_after=now - self.ttl)
        if cached is not None:
            metrics.count_link_cache("postgresql", source, hit=True)
            return self._recalled(key, shape, *cached)
        async with self.sessionmaker() as session, session.begin():
            await link_cache.lock(session, source=source, subject=subject)
            cached = await link_cache.fresh(session, source=source, subject=subject, fetched_after=now - self.ttl)
            if cached is not None:  # fetched by another process while this one waited for the lock
                metrics.count_link_cache("postgresql", source, hit=True)
                return self._recalled(key, shape, *cached)
            metrics.count_link_cache("postgresql", source, hit=False)  # a miss is a call to the source
            answer = await fetch()
            payload = _ABSENT if answer is None else _adapter(shape).dump_python(answer, mode="json", by_alias=True)
            try:
                async with session.begin_nested():
                    await link_cache.store(session, source=source, subject=subject, payload=payload, fetched_at=now)
            except Exception as exc:  # the answer is still good for this request
                log.warning("link_cache_write_failed", source=source, error_type=type(exc).__name__)
        self._remember(key, now, answer)
        return answer

    def _recalled(self, key: tuple[str, str], shape: Any, payload: Any, fetched_at: datetime) -> Any:
        """An answer read from PostgreSQL, remembered in this process too."""
        answer = None if payload == _ABSENT else _adapter(shape).validate_python(payload)
        self._remember(key, fetched_at, answer)
        return answer

    def _remember(self, key: tuple[str, str], fetched_at: datetime, answer: Any) -> None:
        if self._memory_entries <= 0:
            return
        self._memory[key] = (fetched_at, answer)
        self._memory.move_to_end(key)
        while len(self._memory) > self._memory_entries:
            self._memory.popitem(last=False)

    async def purge_expired(self) -> int:
        async with self.sessionmaker() as session, session.begin():
            return await link_cache.purge_older_than(session, self.clock() - self.ttl)


class TrioAnswer(UpstreamModel):
    exists: bool


async def _nothing() -> None:
    return None


async def _or_none(call: Awaitable[T], failures: list[SourceFailure]) -> T | None:
    """The answer, or None with the failure noted (display data: the dossier is shown without it). The log line
    names the source and the kind of failure only, never the person."""
    try:
        return await call
    except UpstreamError as exc:
        _note(exc, failures)
        return None


def _note(error: UpstreamError, failures: list[SourceFailure]) -> None:
    failure = SourceFailure.of(error)
    failures.append(failure)
    log.warning("enrichment_source_failed", source=failure.source, failure=str(failure.kind))


@functools.cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


def _links(ssin: str, person: RegisteredPerson | None, **found: Any) -> PersonLinks:
    if person is None:
        return PersonLinks(ssin=ssin, registered=False)
    return PersonLinks(
        ssin=ssin,
        death_date=person.death_date,
        replaced_by=person.replaced_by,
        previous_ssins=person.previous_ssins,
        **found,
    )
