"""The link cache: reused within its time to live, fetched again after it, purged when expired."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from rp_api.authz.links import LinkResolver
from rp_api.domain.actors import OrganisationType
from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import Population

T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_time_to_live_and_purge(
    app: FastAPI, engine: AsyncEngine, simulator: SimulatorState, population: Population
) -> None:
    insured = next(p for p in population.persons.values() if p.oa_number == 200 and not p.replaced_by)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM person_link_cache"))
    async with app.router.lifespan_context(app):
        live: LinkResolver = app.state.link_resolver
        clock = Clock()
        resolver = LinkResolver(live.upstreams, live.sessionmaker, ttl_s=3600, clock=clock)

        links = await resolver.resolve(insured.ssin, OrganisationType.INSURER, trace_id=None)
        assert links.insurer_oa_number == 200
        assert dict(simulator.calls) == {"nationalRegister": 1, "memberData": 1}

        clock.now += timedelta(minutes=59)
        await resolver.resolve(insured.ssin, OrganisationType.INSURER, trace_id=None)
        assert dict(simulator.calls) == {"nationalRegister": 1, "memberData": 1}

        clock.now += timedelta(minutes=2)  # past the hour: fetched again
        await resolver.resolve(insured.ssin, OrganisationType.INSURER, trace_id=None)
        assert dict(simulator.calls) == {"nationalRegister": 2, "memberData": 2}

        clock.now += timedelta(hours=2)
        assert await resolver.purge_expired() == 2
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM person_link_cache")) == 0


async def test_an_unknown_person_is_cached_as_absent(
    app: FastAPI, engine: AsyncEngine, simulator: SimulatorState, population: Population
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM person_link_cache"))
    async with app.router.lifespan_context(app):
        resolver: LinkResolver = app.state.link_resolver
        for _ in range(2):
            links = await resolver.resolve(population.unknown_ssin, OrganisationType.INAMI, trace_id=None)
            assert not links.registered
    assert simulator.calls["nationalRegister"] == 1


async def test_memory_level_reuses_within_the_time_to_live_counted_from_the_fetch(
    app: FastAPI, engine: AsyncEngine, simulator: SimulatorState, population: Population
) -> None:
    insured = next(p for p in population.persons.values() if p.oa_number == 300 and not p.replaced_by)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM person_link_cache"))
    async with app.router.lifespan_context(app):
        live: LinkResolver = app.state.link_resolver
        clock = Clock()
        first = LinkResolver(live.upstreams, live.sessionmaker, ttl_s=3600, clock=clock)
        await first.resolve(insured.ssin, OrganisationType.INSURER, trace_id=None)

        # The memory answers even when the shared cache has lost the rows.
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM person_link_cache"))
        clock.now += timedelta(minutes=30)
        await first.resolve(insured.ssin, OrganisationType.INSURER, trace_id=None)
        assert dict(simulator.calls) == {"nationalRegister": 1, "memberData": 1}

        # Another process finds the rows in PostgreSQL and remembers them with *their* fetch time: the memory
        # never stretches the time to live.
        await first.resolve(insured.ssin, OrganisationType.INSURER, trace_id=None)
        first.forget()
        clock.now += timedelta(minutes=1)
        await first.resolve(insured.ssin, OrganisationType.INSURER, trace_id=None)  # fetched again at 09:31
        second = LinkResolver(live.upstreams, live.sessionmaker, ttl_s=3600, clock=clock)
        clock.now += timedelta(minutes=50)
        await second.resolve(insured.ssin, OrganisationType.INSURER, trace_id=None)  # from PostgreSQL
        assert dict(simulator.calls) == {"nationalRegister": 2, "memberData": 2}
        clock.now += timedelta(minutes=11)  # 61 minutes after the fetch
        await second.resolve(insured.ssin, OrganisationType.INSURER, trace_id=None)
        assert dict(simulator.calls) == {"nationalRegister": 3, "memberData": 3}


async def test_memory_level_is_bounded(
    app: FastAPI, engine: AsyncEngine, simulator: SimulatorState, population: Population
) -> None:
    persons = [p for p in population.persons.values() if p.oa_number is not None and not p.replaced_by][:3]
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM person_link_cache"))
    async with app.router.lifespan_context(app):
        live: LinkResolver = app.state.link_resolver
        resolver = LinkResolver(live.upstreams, live.sessionmaker, ttl_s=3600, memory_entries=2)
        for person in persons:
            await resolver.resolve(person.ssin, OrganisationType.INAMI, trace_id=None)
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM person_link_cache"))
        simulator.calls.clear()
        # The last two are remembered; the first was pushed out and is fetched again.
        for person in (persons[2], persons[1], persons[0]):
            await resolver.resolve(person.ssin, OrganisationType.INAMI, trace_id=None)
        assert dict(simulator.calls) == {"nationalRegister": 1}


def _answered_at_once(call: Coroutine[Any, Any, T]) -> T:
    """The call's answer when it completes without suspending once (no task, no trip through the event loop)."""
    try:
        call.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    call.close()
    raise AssertionError("the call waited on something")


async def test_answers_in_memory_are_given_without_waiting(
    app: FastAPI, engine: AsyncEngine, simulator: SimulatorState, population: Population
) -> None:
    """A warm resolution runs start to end in one go: the gathers of a cold one would send the request round the
    event loop behind every other request (~15 ms of a warm dossier GET under load)."""
    person = next(
        p
        for p in population.persons.values()
        if p.trio_dossier
        and p.oa_number
        and len([e for e in p.employers if population.employers[e].prevention_services]) == 2
        and not p.replaced_by
        and not p.death_date
    )
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM person_link_cache"))
    async with app.router.lifespan_context(app):
        live: LinkResolver = app.state.link_resolver
        resolver = LinkResolver(live.upstreams, live.sessionmaker, ttl_s=3600)
        first = {kind: await resolver.resolve(person.ssin, kind, trace_id=None) for kind in OrganisationType}
        enriched = await resolver.enrich(person.ssin, with_trio=True, trace_id=None)
        calls = dict(simulator.calls)
        assert calls["seedConnect"] == 2

        for kind in OrganisationType:
            assert _answered_at_once(resolver.resolve(person.ssin, kind, trace_id=None)) == first[kind]
        assert _answered_at_once(resolver.enrich(person.ssin, with_trio=True, trace_id=None)) == enriched
        assert dict(simulator.calls) == calls

        # One answer gone from memory: it is taken again from the PostgreSQL level, the others from memory.
        missing = ("seedConnect", person.employers[0])
        resolver._memory.pop(missing)
        assert await resolver.enrich(person.ssin, with_trio=True, trace_id=None) == enriched
        assert missing in resolver._memory
        assert dict(simulator.calls) == calls
