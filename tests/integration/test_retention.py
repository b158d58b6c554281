"""Retention, travelling in time: the edges of each rule, dry runs, idempotence, audit partitions and the chain."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from typer.testing import CliRunner

from rp_api import migrate
from rp_api.audit_chain import Keyring
from rp_api.authz.audit import AuditRecord
from rp_api.cli import app as cli
from rp_api.repositories import audit as audit_repository
from rp_api.services.retention import purge
from tests.audit_insider import write_at
from tests.databases import OWNER, as_role


@pytest.fixture
async def scratch(own_database: URL) -> AsyncEngine:
    return create_async_engine(own_database)


async def add_dossier(engine: AsyncEngine, ssin: str, last_change: datetime) -> uuid.UUID:
    dossier_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO dossier (id, ssin, status, version, created_at, updated_at)"
                " VALUES (:i, :s, 'active', 1, :t, :t)"
            ),
            {"i": dossier_id, "s": ssin, "t": last_change},
        )
        await connection.execute(
            text(
                "INSERT INTO registration_form (id, dossier_id, routing, status, version, created_by_organisation,"
                " created_by_type, created_by_role, insurer_contacts, created_at, updated_at)"
                " VALUES (:f, :d, 'standard', 'draft', 1, '0411159046', 'insurer', 'administrative', '{}', :t, :t)"
            ),
            {"f": uuid.uuid4(), "d": dossier_id, "t": last_change},
        )
    return dossier_id


async def surviving(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.execute(text("SELECT ssin FROM dossier"))).scalars())


def run(engine: AsyncEngine, now: datetime, **kwargs: object) -> object:
    return purge(
        async_sessionmaker(engine, expire_on_commit=False),
        now=now,
        link_ttl_s=86_400,
        audit_months=kwargs.pop("audit_months", 600),  # type: ignore[arg-type]
        idempotency_days=7,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_dossier_edges_31_december_versus_1_january(scratch: AsyncEngine) -> None:
    await add_dossier(scratch, "00000000031", datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    await add_dossier(scratch, "00000000001", datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC))

    dry = await run(scratch, datetime(2030, 1, 1, 0, 0, tzinfo=UTC), dry_run=True)
    assert dry.dossiers == 1  # type: ignore[attr-defined]
    assert await surviving(scratch) == {"00000000031", "00000000001"}  # a dry run changes nothing

    await run(scratch, datetime(2029, 12, 31, 23, 59, tzinfo=UTC))
    assert await surviving(scratch) == {"00000000031", "00000000001"}
    report = await run(scratch, datetime(2030, 1, 1, 0, 0, tzinfo=UTC))
    assert report.dossiers == 1  # type: ignore[attr-defined]
    assert await surviving(scratch) == {"00000000001"}
    async with scratch.connect() as connection:  # deleted as a whole
        assert await connection.scalar(text("SELECT count(*) FROM registration_form")) == 1
    again = await run(scratch, datetime(2030, 1, 1, 0, 0, tzinfo=UTC))
    assert again.dossiers == 0  # type: ignore[attr-defined]
    await run(scratch, datetime(2031, 1, 1, 0, 0, tzinfo=UTC))
    assert await surviving(scratch) == set()
    async with scratch.connect() as connection:  # the purge keeps the next audit partitions ready
        ready = set(
            (
                await connection.execute(
                    text("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'audit_event_2031_%'")
                )
            ).scalars()
        )
    assert ready == {"audit_event_2031_01", "audit_event_2031_02", "audit_event_2031_03"}
    await scratch.dispose()


async def test_a_dossier_being_changed_is_left_for_the_next_run(scratch: AsyncEngine) -> None:
    await add_dossier(scratch, "00000000031", datetime(2020, 5, 1, tzinfo=UTC))
    async with scratch.connect() as busy:
        await busy.begin()
        await busy.execute(text("SELECT 1 FROM dossier FOR UPDATE"))  # live traffic holds the row
        report = await asyncio.wait_for(run(scratch, datetime(2030, 1, 1, tzinfo=UTC)), timeout=5)
        assert report.dossiers == 0  # type: ignore[attr-defined]
        await busy.rollback()
    assert (await run(scratch, datetime(2030, 1, 1, tzinfo=UTC))).dossiers == 1  # type: ignore[attr-defined]
    await scratch.dispose()


def record(person: str) -> AuditRecord:
    return AuditRecord(
        trace_id=str(uuid.uuid4()), user_ssin="75050575724", organisation="0411159046", organisation_type="insurer",
        roles=("administrative",), operation="readDossier", resource_type="dossier", resource_id=None,
        person_ssin=person, outcome="permit", reason="insurerAffiliation", legal_basis="CSI/CSSS 26/060",
    )  # fmt: skip


async def test_old_audit_partitions_are_dropped_and_the_chains_still_verify(
    scratch: AsyncEngine, own_database: URL, audit_keyring: Keyring
) -> None:
    owner = create_async_engine(as_role(own_database, OWNER))
    async with owner.begin() as connection:  # records of 2024: only the owner can date them (tests/audit_insider.py)
        await connection.execute(text("SELECT rp_ensure_audit_partitions(DATE '2024-01-01', 2)"))
        for moment in (datetime(2024, 1, 15, tzinfo=UTC), datetime(2024, 2, 3, tzinfo=UTC)):
            for n in range(20):  # spread over several chains
                await write_at(connection, [record("85073003328")], moment, audit_keyring, chain_id=n % 16)
    sessions = async_sessionmaker(scratch, expire_on_commit=False, info={audit_repository.KEYRING: audit_keyring})
    for _ in range(20):
        async with sessions() as session, session.begin():
            await audit_repository.append(session, [record("85073003328")])

    now = datetime(2026, 11, 22, tzinfo=UTC)
    dry = await run(scratch, now, audit_months=33, dry_run=True)  # keeps February 2024 onwards
    assert dry.audit_partitions == ["audit_event_2024_01"]  # type: ignore[attr-defined]
    assert dry.audit_records == 20  # type: ignore[attr-defined]
    # The database keeps its own retention (120 months unless `rp-api migrate` gave it another): it refuses.
    with pytest.raises(DBAPIError, match="younger than the retention of 120 months"):
        await run(scratch, now, audit_months=33)
    assert await surviving_records(scratch) == 60
    await asyncio.to_thread(migrate.upgrade, as_role(own_database, OWNER), audit_retention_months=1)
    done = await run(scratch, now, audit_months=33)
    assert done.audit_partitions == ["audit_event_2024_01"]  # type: ignore[attr-defined]
    assert await surviving_records(scratch) == 40
    async with sessions() as session, session.begin():
        verification = await audit_repository.verify(session, audit_keyring)
    assert verification.intact, verification.first_break
    assert verification.records == 40

    async with owner.connect() as connection:  # the anchors are what makes the shortened chains verify
        await connection.begin()
        await connection.execute(text("DELETE FROM audit_chain_anchor"))
        session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
        assert not (await audit_repository.verify(session, audit_keyring)).intact
        await connection.rollback()
    again = await run(scratch, now, audit_months=33)
    assert again.audit_partitions == []  # type: ignore[attr-defined]
    await owner.dispose()
    await scratch.dispose()


async def surviving_records(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT count(*) FROM audit_event")) or 0)


@pytest.mark.usefixtures("clean_rp_environment")
async def test_purge_command(own_database: URL, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_async_engine(own_database)
    await add_dossier(engine, "00000000011", datetime(2015, 1, 1, tzinfo=UTC))
    await engine.dispose()
    monkeypatch.setenv("RP_DATABASE_URL", own_database.render_as_string(hide_password=False))
    runner = CliRunner()
    dry = await asyncio.to_thread(runner.invoke, cli, ["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove 1 dossiers" in dry.output
    done = await asyncio.to_thread(runner.invoke, cli, ["purge"])
    assert "removed 1 dossiers" in done.output
    again = await asyncio.to_thread(runner.invoke, cli, ["purge"])
    assert "removed 0 dossiers" in again.output
