"""A load run: N person-scoped requests at once, permits and denials of every kind, on real connections and
commits, leave exactly N audit records — one per call, each carrying the trace id of its answer — and the hash
chains still verify."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from rp_api import audit_group
from rp_api.audit_chain import Keyring
from rp_api.authz.audit import AuditRecord
from rp_api.repositories import audit as audit_repository
from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import Population, SimulatedPerson
from tests.token_factory import TokenFactory

N = 240


async def opened_dossiers(
    client: httpx.AsyncClient, persons: list[SimulatedPerson], headers: dict[str, str]
) -> list[str]:
    """A dossier opened (a registration form started) for each person; their ids."""
    dossiers = []
    for person in persons:
        opened = await client.post(
            "/rp/v1/dossiers", json={"ssin": person.ssin, "start": "registrationForm"}, headers=headers
        )
        dossiers.append(opened.json()["id"])
    return dossiers


async def test_n_person_scoped_requests_leave_n_audit_records(
    own_client: httpx.AsyncClient,
    own_database: URL,
    tokens: TokenFactory,
    population: Population,
    simulator: SimulatorState,
    audit_keyring: Keyring,
) -> None:
    insured = [p for p in population.persons.values() if p.oa_number == 300 and not p.replaced_by and not p.death_date]
    solidaris = {"Authorization": f"Bearer {tokens.token('Solidaris', ['returnToWorkCoordinator'])}"}
    stranger = {"Authorization": f"Bearer {tokens.token('CM', ['administrative'])}"}
    inami = {"Authorization": f"Bearer {tokens.token('INAMI', ['socialExpert'])}"}
    dossiers = await opened_dossiers(own_client, insured[:10], solidaris)
    engine = create_async_engine(own_database)
    async with engine.connect() as connection:
        before = await connection.scalar(text("SELECT count(*) FROM audit_event"))

    def kinds(i: int) -> list[tuple[str, str, dict[str, str] | None, dict[str, str]]]:
        return [
            ("GET", f"/rp/v1/dossiers/{dossiers[i % 10]}", None, solidaris),  # permit
            ("GET", f"/rp/v1/dossiers/{dossiers[i % 10]}", None, stranger),  # deny: no link (404)
            ("POST", "/rp/v1/dossiers", {"ssin": insured[i % 10].ssin}, inami),  # permit, the dossier exists (200)
            ("POST", "/rp/v1/dossiers", {"ssin": population.unknown_ssin}, solidaris),  # deny: unknown person (404)
        ]

    async def call(i: int) -> httpx.Response:
        method, path, body, headers = kinds(i)[i % 4]
        return await own_client.request(method, path, json=body, headers=headers)

    responses = await asyncio.gather(*(call(i) for i in range(N)))
    assert sorted({r.status_code for r in responses}) == [200, 404]
    assert sum(r.status_code == 200 for r in responses) == N // 2

    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT trace_id, outcome FROM audit_event ORDER BY occurred_at OFFSET :before"),
                {"before": before},
            )
        ).all()
    assert len(rows) == N
    assert {row.trace_id for row in rows} == {r.headers["BelGov-Trace-Id"] for r in responses}
    assert sum(row.outcome == "permit" for row in rows) == N // 2
    async with AsyncSession(engine) as session:
        verification = await audit_repository.verify(session, audit_keyring)
    assert verification.intact
    assert verification.records == before + N
    await engine.dispose()


async def test_reads_of_one_moment_share_one_statement_and_each_keeps_its_own_record(
    own_app: FastAPI,
    own_client: httpx.AsyncClient,
    own_database: URL,
    tokens: TokenFactory,
    population: Population,
    audit_keyring: Keyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Group commit (rp_api.audit_group): while one read's records are on their way (held here until the others
    wait), the reads that reach their append wait, then go in one statement; each call still gets its own record,
    under its trace id, committed before it answers; the chains verify."""
    insured = [p for p in population.persons.values() if p.oa_number == 300 and not p.replaced_by and not p.death_date]
    solidaris = {"Authorization": f"Bearer {tokens.token('Solidaris', ['returnToWorkCoordinator'])}"}
    dossiers = await opened_dossiers(own_client, insured[:6], solidaris)
    for dossier in dossiers:  # links in memory: the reads below reach their append at once
        assert (await own_client.get(f"/rp/v1/dossiers/{dossier}", headers=solidaris)).status_code == 200

    statements: list[int] = []
    held, release = asyncio.Event(), asyncio.Event()
    append_now = audit_group.append_now

    async def held_first(session: AsyncSession, records: Sequence[AuditRecord]) -> None:
        statements.append(len(records))
        if len(statements) == 1:
            held.set()
            await release.wait()
        await append_now(session, records)

    monkeypatch.setattr(audit_group, "append_now", held_first)
    group = getattr(own_app.state, audit_group.AUDIT_GROUP)
    engine = create_async_engine(own_database)
    async with engine.connect() as connection:
        before = await connection.scalar(text("SELECT count(*) FROM audit_event"))
    first = asyncio.create_task(own_client.get(f"/rp/v1/dossiers/{dossiers[0]}", headers=solidaris))
    await asyncio.wait_for(held.wait(), 10)
    rest = [
        asyncio.create_task(own_client.get(f"/rp/v1/dossiers/{dossiers[i % 6]}", headers=solidaris))
        for i in range(1, 12)
    ]
    for _ in range(1000):  # until the eleven wait behind the first (each has read its dossier)
        if len(group._queue) == 11:
            break
        await asyncio.sleep(0.01)
    release.set()
    responses = [await first, *await asyncio.gather(*rest)]
    assert [r.status_code for r in responses] == [200] * 12
    assert statements == [1, 11]  # the first alone, the eleven that waited together

    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT trace_id, outcome, status FROM audit_event ORDER BY occurred_at OFFSET :before"),
                {"before": before},
            )
        ).all()
    assert sorted(row.trace_id for row in rows) == sorted(r.headers["BelGov-Trace-Id"] for r in responses)
    assert {(row.outcome, row.status) for row in rows} == {("permit", 200)}
    async with AsyncSession(engine) as session:
        verification = await audit_repository.verify(session, audit_keyring)
    assert verification.intact
    assert verification.records == before + 12
    await engine.dispose()
