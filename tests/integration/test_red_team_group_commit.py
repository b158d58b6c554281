"""Red team of the group commit of audit records (rp_api.audit_group), from outside: calls of one process cancelled
(a client that goes away under a server that cancels, a timeout around the app) while their records wait or are on
their way, a connection that dies under a group's statement. The app runs on its own database with real
connections (``own_app``): the group path is taken only there.

Each test passes when the service defends itself; a strict xfail documents a defect (its reason says which)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from rp_api import audit_group
from rp_api.audit_group import AuditGroupCommit
from rp_api.authz.audit import AuditRecord
from rp_api.repositories.driver import driver_of
from rp_api.simulator.population import Population
from tests.token_factory import TokenFactory

WAIT_S = 10


@pytest.fixture
async def lenient(own_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the own app that gets the 500 answer of an exception instead of the exception."""
    transport = httpx.ASGITransport(app=own_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://rp.test") as client:
        yield client


@pytest.fixture
async def own_engine(own_database: URL) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(own_database)
    yield engine
    await engine.dispose()


async def warm_dossiers(
    client: httpx.AsyncClient, tokens: TokenFactory, population: Population, count: int
) -> tuple[dict[str, str], list[str]]:
    """Solidaris's headers and ``count`` dossiers it reads at once (links in memory: a read reaches its append
    without waiting on a source)."""
    insured = [p for p in population.persons.values() if p.oa_number == 300 and not p.replaced_by and not p.death_date]
    solidaris = {"Authorization": f"Bearer {tokens.token('Solidaris', ['returnToWorkCoordinator'])}"}
    dossiers = []
    for person in insured[:count]:
        opened = await client.post(
            "/rp/v1/dossiers", json={"ssin": person.ssin, "start": "registrationForm"}, headers=solidaris
        )
        assert opened.status_code in (200, 201), opened.text
        dossiers.append(opened.json()["id"])
    for dossier in dossiers:
        assert (await client.get(f"/rp/v1/dossiers/{dossier}", headers=solidaris)).status_code == 200
    return solidaris, dossiers


class Held:
    """Stands between the group and the real statement: statement ``n`` (1-based) in ``before`` waits for its
    release before it is sent; in ``after``, once it is committed (its answer not yet read by the call, as when a
    cancellation arrives while the answer travels back)."""

    def __init__(self, *, before: Sequence[int] = (), after: Sequence[int] = ()) -> None:
        self.before, self.after = set(before), set(after)
        self.sizes: list[int] = []
        self.sessions: list[AsyncSession] = []
        self.held = {n: asyncio.Event() for n in (*before, *after)}
        self.released = {n: asyncio.Event() for n in (*before, *after)}
        self.real = audit_group.append_now

    async def __call__(self, session: AsyncSession, records: Sequence[AuditRecord]) -> None:
        self.sizes.append(len(records))
        self.sessions.append(session)
        n = len(self.sizes)
        if n in self.before:
            self.held[n].set()
            await self.released[n].wait()
        await self.real(session, records)
        if n in self.after:
            self.held[n].set()
            await self.released[n].wait()


async def until(condition: Any, what: str) -> None:
    for _ in range(WAIT_S * 100):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {WAIT_S} s: {what}")


async def queued(group: AuditGroupCommit, *calls: Callable[[], asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """The calls started one by one, each once the one before waits in the group's queue: they wait in this order
    (the first leads the next group)."""
    tasks: list[asyncio.Task[Any]] = []
    for n, call in enumerate(calls, start=1):
        tasks.append(call())
        await until(lambda n=n: len(group._queue) == n, f"{n} calls waiting")
    return tasks


async def rows_since(engine: AsyncEngine, before: int) -> list[Any]:
    async with engine.connect() as connection:
        return list(
            (
                await connection.execute(
                    text("SELECT trace_id, outcome, status FROM audit_event ORDER BY occurred_at, seq OFFSET :n"),
                    {"n": before},
                )
            ).all()
        )


async def audit_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT count(*) FROM audit_event")) or 0)


def per_trace(rows: Sequence[Any]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for row in rows:
        counted[row.trace_id] = counted.get(row.trace_id, 0) + 1
    return counted


async def cancel_all(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class GroupOnItsWay:
    """Reads of warm dossiers: the first alone in a statement, the others then one group (led by the second), whose
    statement (the second) ``held`` holds; see :func:`group_on_its_way`."""

    held: Held
    group: AuditGroupCommit
    before: int
    solidaris: dict[str, str]
    dossiers: list[str]
    first: asyncio.Task[httpx.Response]
    grouped: list[asyncio.Task[httpx.Response]]


async def group_on_its_way(
    own_app: FastAPI,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    tokens: TokenFactory,
    population: Population,
    monkeypatch: pytest.MonkeyPatch,
    *,
    reads: int,
    held: Held,
) -> GroupOnItsWay:
    """``reads`` reads started one by one: the first's statement held until the others wait in the queue, in order,
    then released; returns once the group's statement reached ``held`` (before it is sent, or once it is committed,
    as ``held`` says for statement 2)."""
    solidaris, dossiers = await warm_dossiers(client, tokens, population, reads)
    monkeypatch.setattr(audit_group, "append_now", held)
    group: AuditGroupCommit = getattr(own_app.state, audit_group.AUDIT_GROUP)
    before = await audit_count(engine)

    def get(i: int) -> asyncio.Task[httpx.Response]:
        return asyncio.create_task(client.get(f"/rp/v1/dossiers/{dossiers[i]}", headers=solidaris))

    first = get(0)
    await until(held.held[1].is_set, "the first read's statement")
    grouped = await queued(group, *(lambda i=i: get(i) for i in range(1, reads)))
    held.released[1].set()
    await until(held.held[2].is_set, "the group's statement")
    return GroupOnItsWay(held, group, before, solidaris, dossiers, first, grouped)


async def test_a_call_cancelled_while_its_group_is_written_harms_no_other_call(
    own_app: FastAPI,
    lenient: httpx.AsyncClient,
    own_engine: AsyncEngine,
    tokens: TokenFactory,
    population: Population,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = Held(before=(1, 2))
    way = await group_on_its_way(
        own_app, lenient, own_engine, tokens, population, monkeypatch, reads=4, held=held
    )  # the group of the three on its way
    first, before, (leader, leaving, last) = way.first, way.before, way.grouped
    assert held.sizes == [1, 3]
    leaving.cancel()  # its client went away while the group's statement was on its way
    await asyncio.sleep(0.05)
    held.released[2].set()
    try:
        _, pending = await asyncio.wait([first, leader, last], timeout=WAIT_S)
        assert not pending, "a call of the group never answered (its turn's outcome was never told)"
        assert [t.result().status_code for t in (first, leader, last)] == [200, 200, 200]
        rows = await rows_since(own_engine, before)
        counted = per_trace(rows)
        for task in (first, leader, last):
            assert counted[task.result().headers["BelGov-Trace-Id"]] == 1
        assert len(rows) <= 4  # the cancelled call: its record once at most
    finally:
        await cancel_all(first, leader, leaving, last)


async def test_a_leader_cancelled_after_its_group_was_committed_duplicates_no_other_calls_record(
    own_app: FastAPI,
    lenient: httpx.AsyncClient,
    own_engine: AsyncEngine,
    tokens: TokenFactory,
    population: Population,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = Held(before=(1,), after=(2,))
    way = await group_on_its_way(
        own_app, lenient, own_engine, tokens, population, monkeypatch, reads=3, held=held
    )  # the group of two committed, its answer on its way back
    first, before, (leader, other) = way.first, way.before, way.grouped
    leader.cancel()
    await asyncio.sleep(0.05)
    held.released[2].set()  # the answer of the committed statement arrives
    try:
        answered = await asyncio.wait_for(other, WAIT_S)
        assert answered.status_code == 200
        assert (await asyncio.wait_for(first, WAIT_S)).status_code == 200
        counted = per_trace(await rows_since(own_engine, before))
        assert counted[answered.headers["BelGov-Trace-Id"]] == 1, "the other call's record written twice"
    finally:
        await cancel_all(first, leader, other)


async def killed_under_a_group(
    own_app: FastAPI,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    tokens: TokenFactory,
    population: Population,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[dict[str, str], list[str], list[httpx.Response], dict[str, int]]:
    """Four reads, the last three waiting; the backend of the group's leader terminated just before its statement
    is sent. Returns the headers, the dossiers, the four answers and the records per trace id."""
    held = Held(before=(1, 2))
    way = await group_on_its_way(
        own_app, client, engine, tokens, population, monkeypatch, reads=4, held=held
    )  # the group of three about to be sent
    first, (leader, second, third) = way.first, way.grouped
    pid = (await driver_of(held.sessions[1])).get_server_pid()
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    held.released[2].set()
    try:
        answers = list(await asyncio.wait_for(asyncio.gather(first, leader, second, third), WAIT_S))
    finally:
        await cancel_all(first, leader, second, third)
    monkeypatch.setattr(audit_group, "append_now", held.real)
    assert way.group.idle
    return way.solidaris, way.dossiers, answers, per_trace(await rows_since(engine, way.before))


async def test_a_connection_killed_under_a_groups_statement_fails_only_its_own_call_and_the_turn_goes_on(
    own_app: FastAPI,
    lenient: httpx.AsyncClient,
    own_engine: AsyncEngine,
    tokens: TokenFactory,
    population: Population,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The statement fails; every other call of the group appends on its own connection and answers 200 with exactly
    one record; the leader's call fails on its own (503 try again, recorded once, as a refusal), never a hang; the
    turn is free."""
    _, _, answers, counted = await killed_under_a_group(own_app, lenient, own_engine, tokens, population, monkeypatch)
    assert [a.status_code for a in answers] == [200, 503, 200, 200]
    assert all(counted.get(a.headers["BelGov-Trace-Id"]) == 1 for a in answers)


async def test_after_a_connection_was_killed_later_reads_never_answer_500(
    own_app: FastAPI,
    lenient: httpx.AsyncClient,
    own_engine: AsyncEngine,
    tokens: TokenFactory,
    population: Population,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    solidaris, dossiers, _, _ = await killed_under_a_group(
        own_app, lenient, own_engine, tokens, population, monkeypatch
    )
    later = [
        (await asyncio.wait_for(lenient.get(f"/rp/v1/dossiers/{dossiers[i % 4]}", headers=solidaris), WAIT_S))
        for i in range(30)
    ]
    assert {a.status_code for a in later} == {200}  # the dead connection left the pool


async def test_reads_cut_short_by_client_timeouts_never_leave_the_turn_taken(
    own_app: FastAPI,
    lenient: httpx.AsyncClient,
    own_engine: AsyncEngine,
    tokens: TokenFactory,
    population: Population,
) -> None:
    """Waves of reads, each wave with a client timeout that cuts about half of them short (cancelled wherever they
    are: reading, waiting for their turn, leading a group). The calls that answered have exactly one record each; a
    read afterwards appends at once; the group is idle. (Calls that hang are counted too: none may.)"""
    solidaris, dossiers = await warm_dossiers(lenient, tokens, population, 6)
    group: AuditGroupCommit = getattr(own_app.state, audit_group.AUDIT_GROUP)
    before = await audit_count(own_engine)
    answered: list[httpx.Response] = []
    for wave in range(6):
        tasks = [
            asyncio.create_task(lenient.get(f"/rp/v1/dossiers/{dossiers[i % 6]}", headers=solidaris)) for i in range(40)
        ]
        await asyncio.sleep(0.002 * (wave + 1))
        for task in tasks[::2]:
            task.cancel()
        done, pending = await asyncio.wait(tasks, timeout=WAIT_S)
        assert not pending, f"wave {wave}: {len(pending)} calls never answered"
        answered += [t.result() for t in done if not t.cancelled()]
    assert all(a.status_code == 200 for a in answered), {a.status_code for a in answered}
    counted = per_trace(await rows_since(own_engine, before))
    assert all(counted.get(a.headers["BelGov-Trace-Id"]) == 1 for a in answered)
    again = await asyncio.wait_for(lenient.get(f"/rp/v1/dossiers/{dossiers[0]}", headers=solidaris), WAIT_S)
    assert again.status_code == 200
    assert group.idle
