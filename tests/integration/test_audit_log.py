"""The audit log: keyed and hash-chained, append-only in the database, verifiable, never blocking writers on one
lock, and written even when the call it records fails. (What neither the runtime role nor an insider holding the
owner role can do to it: ``test_audit_integrity.py``.)"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from typer.testing import CliRunner

from rp_api.audit_chain import Keyring
from rp_api.audit_keys import load_keyring
from rp_api.authz.audit import AuditRecord, record
from rp_api.cli import app as cli
from rp_api.db import DbSession
from rp_api.repositories import audit as audit_repository
from rp_api.routers import api_router
from rp_api.settings import Environment, Settings
from tests.databases import OWNER, as_role

PERSON = "85073003328"


def sample(person: str = PERSON, outcome: str = "permit", status: int | None = 200) -> AuditRecord:
    return AuditRecord(
        trace_id=str(uuid.uuid4()),
        user_ssin="75050575724",
        organisation="0411159046",
        organisation_type="regionalService",
        roles=("referenceAdvisor",),
        operation="consultDossier",
        resource_type="dossier",
        resource_id=str(uuid.uuid4()),
        person_ssin=person,
        outcome=outcome,
        reason="regionalRegistration" if outcome == "permit" else "noLink",
        legal_basis="CSI/CSSS 26/060" if outcome == "permit" else None,
        status=status,
    )


@pytest.fixture
def session(connection: AsyncConnection, audit_keyring: Keyring) -> AsyncSession:
    """A session of the runtime role with the audit keys, as the app's are."""
    return AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", info={audit_repository.KEYRING: audit_keyring}
    )


async def test_records_with_and_without_a_status_chain_and_verify(
    session: AsyncSession, connection: AsyncConnection, audit_keyring: Keyring
) -> None:
    """Records written before the status was recorded (NULL) and after (the caller's HTTP status) share a chain."""
    await audit_repository.append(session, [sample(status=None), sample(outcome="deny", status=404), sample()])
    stored = (await connection.execute(text("SELECT status FROM audit_event ORDER BY occurred_at, seq"))).scalars()
    assert sorted(stored, key=lambda s: (s is not None, s)) == [None, 200, 404]
    verification = await audit_repository.verify(session, audit_keyring)
    assert verification.intact, verification.first_break


async def test_appended_records_chain_and_verify(
    session: AsyncSession, connection: AsyncConnection, audit_keyring: Keyring
) -> None:
    await audit_repository.append(session, [sample(), sample(outcome="deny"), sample()])
    rows = (
        await connection.execute(
            text("SELECT chain_id, seq, prev_hash, hash, key_id, mac FROM audit_event ORDER BY seq")
        )
    ).all()
    assert len(rows) == 3
    assert len({row.chain_id for row in rows}) == 1
    assert [row.seq for row in rows] == [1, 2, 3]
    assert rows[1].prev_hash == rows[0].hash
    assert rows[2].prev_hash == rows[1].hash
    assert {row.key_id for row in rows} == {audit_keyring.current_id}
    assert all(len(row.mac) == 32 for row in rows)
    result = await audit_repository.verify(session, audit_keyring)
    assert result.intact
    assert result.records == 3
    assert result.keys == {audit_keyring.current_id: 3}


@pytest.fixture
def owner_session(owner_connection: AsyncConnection, audit_keyring: Keyring) -> AsyncSession:
    """A session of the owner role (which may append too: it owns the function)."""
    return AsyncSession(
        bind=owner_connection, join_transaction_mode="create_savepoint", info={audit_repository.KEYRING: audit_keyring}
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET outcome = 'permit'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "TRUNCATE audit_event_default",
        "UPDATE audit_event_default SET outcome = 'permit'",
    ],
)
async def test_the_database_refuses_changes_even_to_the_owner(
    owner_session: AsyncSession, owner_connection: AsyncConnection, statement: str
) -> None:
    """The guard triggers stop a careless hand, the owner's too, on the parent and on every partition (the runtime
    role is refused before any trigger: it has no such privilege at all)."""
    await audit_repository.append(owner_session, [sample(outcome="deny")])
    async with owner_connection.begin_nested() as attempt:
        with pytest.raises(DBAPIError, match="append-only"):
            await owner_connection.execute(
                text(statement.replace("audit_event_default", await _partition(owner_connection)))
            )
        await attempt.rollback()
    assert await owner_connection.scalar(text("SELECT count(*) FROM audit_event")) == 1


async def _partition(connection: AsyncConnection) -> str:
    return str(await connection.scalar(text("SELECT tableoid::regclass::text FROM audit_event LIMIT 1")))


@pytest.mark.parametrize(
    ("tampering", "problem"),
    [
        (
            "UPDATE audit_event SET person_ssin = '75050575724' WHERE seq = 2",
            "record content was changed (its MAC does not match)",
        ),
        ("DELETE FROM audit_event WHERE seq = 2", "sequence gap or duplicate"),
        ("DELETE FROM audit_event WHERE seq = 3", "chain head does not match its last record"),
    ],
)
async def test_tampering_as_owner_is_found(
    owner_session: AsyncSession,
    owner_connection: AsyncConnection,
    audit_keyring: Keyring,
    tampering: str,
    problem: str,
) -> None:
    await audit_repository.append(owner_session, [sample(), sample(), sample()])
    await owner_connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    await owner_connection.execute(text(tampering))
    await owner_connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    result = await audit_repository.verify(owner_session, audit_keyring)
    assert result.first_break is not None
    assert result.first_break.problem == problem


async def test_concurrent_writers_take_different_chains_without_waiting(
    engine: AsyncEngine, audit_keyring: Keyring
) -> None:
    async with engine.connect() as first, engine.connect() as second:
        await first.begin()
        await second.begin()
        await audit_repository.append(AsyncSession(bind=first), [sample()], keyring=audit_keyring)
        # The first transaction holds its chain head; the second must not wait for it.
        await asyncio.wait_for(
            audit_repository.append(AsyncSession(bind=second), [sample()], keyring=audit_keyring), timeout=2
        )
        chains = [
            await conn.scalar(text("SELECT chain_id FROM audit_event ORDER BY occurred_at DESC LIMIT 1"))
            for conn in (first, second)
        ]
        assert chains[0] != chains[1]
        await first.rollback()
        await second.rollback()


# --- the unit of work writes audit records, even when the call fails -------------------------------------------
router = api_router(prefix="/rp/v1/audited")


@router.post("/{outcome}")
async def audited(outcome: str, session: DbSession) -> dict[str, str]:
    await session.execute(text("INSERT INTO audit_probe VALUES ('data')"))
    record(session, sample(outcome="permit" if outcome == "ok" else "deny"))
    if outcome != "ok":
        from rp_api.problems import ResourceNotFound

        raise ResourceNotFound()
    return {"outcome": outcome}


@pytest.fixture
async def audited_client(app: FastAPI, client: httpx.AsyncClient, connection: AsyncConnection) -> httpx.AsyncClient:
    # The runtime role makes no table; a temporary one of the test's connection (which the app's sessions share).
    await connection.execute(text("CREATE TEMPORARY TABLE audit_probe (note text)"))
    app.include_router(router)
    return client


async def test_permit_is_written_with_the_data(audited_client: httpx.AsyncClient, connection: AsyncConnection) -> None:
    assert (await audited_client.post("/rp/v1/audited/ok")).status_code == 200
    assert await connection.scalar(text("SELECT count(*) FROM audit_probe")) == 1
    assert await connection.scalar(text("SELECT outcome FROM audit_event")) == "permit"


async def test_denial_is_written_although_the_data_is_rolled_back(
    audited_client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    assert (await audited_client.post("/rp/v1/audited/denied")).status_code == 404
    assert await connection.scalar(text("SELECT count(*) FROM audit_probe")) == 0
    assert await connection.scalar(text("SELECT outcome FROM audit_event")) == "deny"


# --- rp-api audit verify on a database of its own (committed data, as an operator would see it) ---------------
@pytest.mark.usefixtures("clean_rp_environment")
async def test_cli_reports_a_tampered_row(own_database: URL, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    keyring = load_keyring(Settings(env=Environment.TEST, data_dir=tmp_path))
    engine = create_async_engine(own_database)
    async with AsyncSession(engine) as session, session.begin():
        await audit_repository.append(session, [sample() for _ in range(5)], keyring=keyring)
    await engine.dispose()
    monkeypatch.setenv("RP_ENV", "test")
    monkeypatch.setenv("RP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RP_DATABASE_URL", own_database.render_as_string(hide_password=False))
    runner = CliRunner()

    intact = await asyncio.to_thread(runner.invoke, cli, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "intact: 5 records" in intact.output

    owner = create_async_engine(as_role(own_database, OWNER))
    async with owner.begin() as connection:  # the database owner can switch the guard off; the MAC still tells
        await connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        await connection.execute(text("UPDATE audit_event SET outcome = 'permit', reason = 'x' WHERE seq = 4"))
        await connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    await owner.dispose()

    broken = await asyncio.to_thread(runner.invoke, cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "BROKEN" in broken.output
    assert "seq 4" in broken.output
    assert "record content was changed" in broken.output


async def test_no_audit_record_no_answer(
    audited_client: httpx.AsyncClient, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(session: AsyncSession, records: object) -> None:
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(audit_repository, "append", broken)
    response = await audited_client.post("/rp/v1/audited/ok")
    assert response.status_code == 500
    assert response.json()["type"] == "urn:problem-type:belgif:internalServerError"
    assert await connection.scalar(text("SELECT count(*) FROM audit_probe")) == 0  # nothing revealed, nothing kept


async def test_append_is_inside_the_callers_transaction(engine: AsyncEngine, audit_keyring: Keyring) -> None:
    """Even as the first statement of a transaction, the records go in with it, and out with its rollback."""
    heads_query = text("SELECT chain_id, seq FROM audit_chain_head ORDER BY chain_id")
    async with engine.connect() as reader:
        before = await reader.scalar(text("SELECT count(*) FROM audit_event"))
        heads = (await reader.execute(heads_query)).all()
    async with AsyncSession(engine) as session:
        await session.begin()
        await audit_repository.append(session, [sample(), sample()], keyring=audit_keyring)
        await session.rollback()
    async with engine.connect() as reader:
        assert await reader.scalar(text("SELECT count(*) FROM audit_event")) == before
        assert (
            await reader.execute(text("SELECT chain_id, seq FROM audit_chain_head ORDER BY chain_id"))
        ).all() == heads


_VALUE = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(exclude_characters="\x00\x1e\x1f", exclude_categories=("Cs",)), max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_VALUE, min_size=1, max_size=8))
async def test_a_column_sent_as_one_text_comes_back_value_for_value(
    connection: AsyncConnection, values: list[str | None]
) -> None:
    """The audit append sends each column as one text split again by the database: any value (empty, NULL, quotes,
    backslashes, commas, braces, any Unicode) comes back as it was, in its place."""
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    back = await driver.fetchval(f"SELECT {audit_repository._column(1)}", audit_repository.joined(values))
    assert back == values


@pytest.mark.parametrize("value", ["a\x1fb", "\x1e", "x\x1e"])
def test_a_value_holding_a_separator_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="separates values"):
        audit_repository.joined(["fine", value, None])


async def test_awkward_values_are_stored_exactly_and_chain(
    session: AsyncSession, connection: AsyncConnection, audit_keyring: Keyring
) -> None:
    odd = replace(sample(), reason="", resource_id=None, legal_basis='quote " backslash \\ comma , brace } é 🙂')
    await audit_repository.append(session, [odd, sample()])
    row = (
        await connection.execute(text("SELECT reason, resource_id, legal_basis FROM audit_event ORDER BY seq LIMIT 1"))
    ).one()
    assert tuple(row) == ("", None, odd.legal_basis)
    assert (await audit_repository.verify(session, audit_keyring)).intact
