"""Issue 16: an audit log that the service's own database role cannot rewrite, and that tells when the owner did.

- As the runtime role (the service's): every way to change the log is refused — UPDATE, DELETE, TRUNCATE on the
  parent and on a partition, switching triggers, dropping or detaching a partition, INSERT around the append
  function, a forged time, dropping a partition younger than the retention through the upkeep function — and the
  log still verifies.
- As the owner role (an insider who can do anything to the tables): rewriting a record and linking its chain again
  with SHA-256, removing the last records of a chain, re-linking a chain without a record: ``rp-api audit verify``
  fails and names the record (by its MAC, which needs the key the database never holds, or by a signed checkpoint
  kept outside the database).
- Keys rotate: records under two key ids verify; a record under a key that is not in the key file does not.
- Records written before the log was keyed verify as legacy records, and only those.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine
from typer.testing import CliRunner, Result

from rp_api import migrate
from rp_api.audit_chain import Keyring, mac
from rp_api.audit_checkpoints import Checkpointer
from rp_api.audit_keys import checkpoint_path, load_keyring, load_signing_keys, signing_key
from rp_api.cli import app as cli
from rp_api.domain.audit import AuditRecord
from rp_api.repositories import audit as audit_repository
from rp_api.settings import Environment, Settings
from tests.audit_insider import Row, busiest_chain, chain, record_of, relinked, rewrite_chain
from tests.databases import OWNER, RUNTIME, as_role, create_migrated, drop

PERSON = "85073003328"
PREVIOUS_REVISION = "7c4d1e9b2f60"
"""The revision before the log was keyed (its records are the legacy ones)."""


def sample(person: str = PERSON, operation: str = "consultDossier") -> AuditRecord:
    return AuditRecord(
        trace_id=str(uuid.uuid4()),
        user_ssin="75050575724",
        organisation="0411159046",
        organisation_type="regionalService",
        roles=("referenceAdvisor",),
        operation=operation,
        resource_type="dossier",
        resource_id=str(uuid.uuid4()),
        person_ssin=person,
        outcome="permit",
        reason="regionalRegistration",
        legal_basis="CSI/CSSS 26/060",
        status=200,
    )


@pytest.fixture
def session(connection: AsyncConnection, audit_keyring: Keyring) -> AsyncSession:
    return AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", info={audit_repository.KEYRING: audit_keyring}
    )


async def current_partition(connection: AsyncConnection) -> str:
    return str(await connection.scalar(text("SELECT tableoid::regclass::text FROM audit_event LIMIT 1")))


# --- the runtime role ----------------------------------------------------------------------------------------
FORGED_ROW = (
    "(chain_id, seq, occurred_at, id, trace_id, user_ssin, organisation, organisation_type, roles, operation, "
    "resource_type, person_ssin, outcome, reason, prev_hash, hash) VALUES (0, 999, now(), gen_random_uuid(), 't', "
    "'75050575724', '0411159046', 'insurer', ARRAY['x'], 'consultDossier', 'dossier', '85073003328', 'permit', 'x', "
    "'\\x00', '\\x00')"
)
REFUSED = [
    "UPDATE audit_event SET person_ssin = '75050575724'",
    "DELETE FROM audit_event",
    "TRUNCATE audit_event",
    "UPDATE {partition} SET person_ssin = '75050575724'",
    "DELETE FROM {partition}",
    "TRUNCATE {partition}",
    "TRUNCATE audit_event_default",
    "ALTER TABLE audit_event DISABLE TRIGGER USER",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
    "ALTER TABLE {partition} DISABLE TRIGGER ALL",
    "ALTER TABLE audit_event DETACH PARTITION {partition}",
    "DROP TABLE {partition}",
    "DROP TABLE audit_event",
    f"INSERT INTO audit_event {FORGED_ROW}",
    f"INSERT INTO {{partition}} {FORGED_ROW}",
    "UPDATE audit_chain_head SET seq = 0",
    "DELETE FROM audit_chain_anchor",
    "INSERT INTO audit_chain_anchor VALUES (0, 1000, '\\x00', now())",
    "UPDATE audit_retention SET months = 1",
    "SELECT rp_ensure_audit_partitions(current_date, 1)",
    "CREATE TABLE audit_event_2099_01 PARTITION OF audit_event FOR VALUES FROM ('2099-01-01') TO ('2099-02-01')",
    "ALTER FUNCTION rp_audit_upkeep(date, integer, date) SECURITY INVOKER",
    "CREATE OR REPLACE FUNCTION rp_audit_event_is_append_only() RETURNS trigger LANGUAGE sql AS 'SELECT NULL'",
    "ALTER TABLE audit_event OWNER TO rp_runtime",
    "SET ROLE rp_owner",
    "LOCK TABLE audit_event IN ACCESS EXCLUSIVE MODE",
]


async def test_the_runtime_role_can_change_nothing_in_the_log(
    session: AsyncSession, connection: AsyncConnection, audit_keyring: Keyring
) -> None:
    await audit_repository.append(session, [sample(), sample(), sample()])
    partition = await current_partition(connection)
    before = (await connection.execute(text("SELECT * FROM audit_event ORDER BY chain_id, seq"))).all()
    for statement in REFUSED:
        async with connection.begin_nested() as attempt:
            with pytest.raises(DBAPIError, match=r"permission denied|must be owner") as refused:
                await connection.execute(text(statement.format(partition=partition)))
            assert "append-only" not in str(refused.value)  # refused by privileges, before any trigger
            await attempt.rollback()
    assert (await connection.execute(text("SELECT * FROM audit_event ORDER BY chain_id, seq"))).all() == before
    verification = await audit_repository.verify(session, audit_keyring)
    assert verification.intact, verification.first_break
    assert verification.records == 3


@pytest.mark.parametrize(
    "offset", [timedelta(hours=-1), timedelta(seconds=-30), timedelta(seconds=30), timedelta(days=1)]
)
async def test_a_forged_time_is_refused(
    session: AsyncSession, connection: AsyncConnection, audit_keyring: Keyring, offset: timedelta
) -> None:
    """The runtime role holds the key, yet cannot date a record: the database checks the time against its clock."""
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    forged = datetime.now(UTC) + offset
    async with connection.begin_nested() as attempt:
        with pytest.raises(asyncpg.PostgresError, match=r"time .* refused"):
            await driver.fetchval(
                audit_repository._APPEND, *audit_repository._arguments([sample()], forged, audit_keyring)
            )
        await attempt.rollback()
    assert await connection.scalar(text("SELECT count(*) FROM audit_event")) == 0
    await audit_repository.append(session, [sample()])
    stored = await connection.scalar(text("SELECT clock_timestamp() - occurred_at FROM audit_event"))
    assert timedelta(0) <= stored < timedelta(seconds=5)
    assert (await audit_repository.verify(session, audit_keyring)).intact


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda args: [*args[:1], None, *args[2:]], "ck_audit_event_keyed"),  # no key id
        (lambda args: [*args[:-1], args[-1][:-1]], "ck_audit_event_keyed"),  # a MAC of 31 bytes
        (lambda args: [*args[:-1], None], "null value"),  # no MAC
        (  # two ids, the rest for one record
            lambda args: [*args[:2], audit_repository.joined([str(uuid.uuid4()), str(uuid.uuid4())]), *args[3:]],
            "null value",
        ),
    ],
)
async def test_a_malformed_append_is_refused(
    connection: AsyncConnection, audit_keyring: Keyring, change: Callable[[list[Any]], list[Any]], problem: str
) -> None:
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    arguments = audit_repository._arguments([sample()], datetime.now(UTC), audit_keyring)
    async with connection.begin_nested() as attempt:
        with pytest.raises(asyncpg.PostgresError, match=problem):
            await driver.fetchval(audit_repository._APPEND, *change(arguments))
        await attempt.rollback()


async def test_the_upkeep_function_refuses_a_partition_younger_than_the_retention(
    session: AsyncSession, connection: AsyncConnection, audit_keyring: Keyring
) -> None:
    await audit_repository.append(session, [sample(), sample()])
    partition = await current_partition(connection)
    for first_kept in ("date_trunc('month', current_date) + interval '1 month'", "DATE '2100-01-01'"):
        async with connection.begin_nested() as attempt:
            with pytest.raises(DBAPIError, match=r"audit_event_\d{4}_\d{2} is younger than the retention of 120"):
                await connection.execute(text(f"SELECT rp_audit_upkeep(current_date, 3, ({first_kept})::date)"))
            await attempt.rollback()
    assert await connection.scalar(text("SELECT to_regclass(:p) IS NOT NULL"), {"p": partition})
    assert (await audit_repository.verify(session, audit_keyring)).intact


async def test_the_runtime_role_has_what_the_service_needs_and_no_more(connection: AsyncConnection) -> None:
    await connection.execute(text("SELECT rp_audit_upkeep(DATE '2031-01-01', 1, NULL)"))  # a partition made now
    privileges = {
        row.relname: set(row.privileges)
        for row in await connection.execute(
            text(
                "SELECT c.relname, array(SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', "
                "'TRUNCATE', 'REFERENCES', 'TRIGGER']) p WHERE has_table_privilege(c.oid, p)) "
                "AS privileges FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
            )
        )
    }
    audit = {name for name in privileges if name.startswith("audit_")}
    partitions = {name for name in audit if re.fullmatch(r"audit_event_(\d{4}_\d{2}|default)", name)}
    assert "audit_event_2031_01" in partitions
    for name in partitions | {"audit_retention"}:
        assert privileges[name] == set(), name
    for name in ("audit_event", "audit_chain_head", "audit_chain_anchor"):
        assert privileges[name] == {"SELECT"}, name
    for name in set(privileges) - audit - {"alembic_version"}:
        assert {"SELECT", "INSERT", "UPDATE", "DELETE"} <= privileges[name], f"{name}: grant it to the runtime role"
        assert not {"TRUNCATE", "TRIGGER", "REFERENCES"} & privileges[name], name
    role = (
        await connection.execute(
            text(
                "SELECT current_user AS name, rolsuper, pg_has_role(current_user, :owner, 'MEMBER') AS as_owner, "
                "has_schema_privilege('public', 'CREATE') AS creates, "
                "(SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole) AS owns "
                "FROM pg_roles WHERE rolname = current_user"
            ),
            {"owner": OWNER},
        )
    ).one()
    assert (role.name, role.rolsuper, role.as_owner, role.creates, role.owns) == (RUNTIME, False, False, False, 0)
    functions = {
        row.proname: row
        for row in await connection.execute(
            text(
                "SELECT proname, prosecdef, proconfig, has_function_privilege(p.oid, 'EXECUTE') AS runs "
                "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' AND proname LIKE 'rp\\_%'"
            )
        )
    }
    assert {name for name, f in functions.items() if f.runs} == {"rp_audit_append", "rp_audit_upkeep"}
    for name in ("rp_audit_append", "rp_audit_upkeep"):
        assert functions[name].prosecdef, name
        assert functions[name].proconfig == ["search_path=pg_catalog, public, pg_temp"], name
    trigger = await connection.scalar(
        text(
            "SELECT count(*) FROM pg_trigger "
            "WHERE tgrelid = 'audit_event_2031_01'::regclass AND tgname LIKE '%truncate'"
        )
    )
    assert trigger == 1


# --- an insider holding the owner role, against `rp-api audit verify` ------------------------------------------
@dataclass
class Log:
    """A log with committed records on a database of its own, its key files in ``data_dir``, and the two roles."""

    url: URL
    data_dir: Path
    monkeypatch: pytest.MonkeyPatch

    @property
    def settings(self) -> Settings:
        return Settings(env=Environment.TEST, data_dir=self.data_dir)

    async def append(self, *calls: int, keyring: Keyring | None = None) -> None:
        """One call per number, each with that many records (a call's records go on one chain)."""
        engine = create_async_engine(self.url)
        keyring = keyring or load_keyring(self.settings)
        for count in calls:
            async with AsyncSession(engine) as session, session.begin():
                await audit_repository.append(session, [sample() for _ in range(count)], keyring=keyring)
        await engine.dispose()

    async def checkpoint(self) -> None:
        """What the service does every RP_AUDIT_CHECKPOINT_INTERVAL_S."""
        engine = create_async_engine(self.url)
        signer = Checkpointer(engine, signing_key(load_signing_keys(self.settings)), checkpoint_path(self.settings))
        assert await signer.write() is not None
        await engine.dispose()

    async def as_owner(self, act: Callable[[AsyncConnection], Any]) -> None:
        engine = create_async_engine(as_role(self.url, OWNER))
        async with engine.begin() as connection:
            await act(connection)
        await engine.dispose()

    async def verify(self, *args: str) -> Result:
        self.monkeypatch.setenv("RP_ENV", "test")
        self.monkeypatch.setenv("RP_DATA_DIR", str(self.data_dir))
        self.monkeypatch.setenv("RP_DATABASE_URL", self.url.render_as_string(hide_password=False))
        return await asyncio.to_thread(CliRunner().invoke, cli, ["audit", "verify", *args])


@pytest.fixture
def log(own_database: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_rp_environment: None) -> Log:
    return Log(own_database, tmp_path, monkeypatch)


def named(result: Result, chain_id: int, row: Row | None, seq: int | None = None) -> bool:
    """The verification names the record: its chain, its seq (and id, when it is there)."""
    seq = row["seq"] if row is not None else seq
    where = f"chain {chain_id}, seq {seq}" + (f", record {row['id']}" if row is not None else "")
    return result.exit_code == 1 and where in result.output


async def test_an_insider_rewriting_a_record_and_linking_the_chain_again_is_named(log: Log) -> None:
    """Issue 16's insider, as the owner role: triggers off, a record's person and operation changed, the chain's
    SHA-256 links computed again, the head moved, triggers on. Without the MAC key, the record's MAC gives it away."""
    await log.append(5, 2, 1)
    intact = await log.verify()
    assert intact.exit_code == 0, intact.output
    assert "intact: 8 records" in intact.output
    rewritten: list[Row] = []

    async def insider(connection: AsyncConnection) -> None:
        chain_id = await busiest_chain(connection)

        def change(rows: list[Row]) -> list[Row]:
            rows[2] = {**rows[2], "person_ssin": "75050575724", "operation": "nothingToSeeHere"}
            rewritten.append(rows[2])
            return rows

        await rewrite_chain(connection, chain_id, change)
        # a chain consistent to whoever has no key
        assert all(relinked(r["prev_hash"], r) == bytes(r["hash"]) for r in await chain(connection, chain_id))

    await log.as_owner(insider)
    broken = await log.verify()
    assert named(broken, rewritten[0]["chain_id"], rewritten[0]), broken.output
    assert "record content was changed (its MAC does not match)" in broken.output


async def test_an_insider_passing_a_record_off_as_legacy_is_named(log: Log) -> None:
    """Records written before the log was keyed have no MAC; a keyed record turned into one (key id and MAC
    removed, linked with plain SHA-256 as legacy records are) comes after its chain was keyed, and is named."""
    await log.append(4)
    rewritten: list[Row] = []

    async def insider(connection: AsyncConnection) -> None:
        def change(rows: list[Row]) -> list[Row]:
            rows[1] = {**rows[1], "person_ssin": "75050575724", "key_id": None, "mac": None}
            rewritten.append(rows[1])
            return rows

        await rewrite_chain(connection, await busiest_chain(connection), change)

    await log.as_owner(insider)
    broken = await log.verify()
    assert named(broken, rewritten[0]["chain_id"], rewritten[0]), broken.output
    assert "a record without a key after the chain was keyed" in broken.output


async def test_the_last_records_of_a_chain_removed_are_named_by_a_checkpoint(log: Log) -> None:
    """Removing the tail of a chain (and moving its head back) breaks no MAC and no link: the signed checkpoint the
    service wrote before says how far the chain went."""
    await log.append(5, 1)
    await log.checkpoint()
    assert (await log.verify()).exit_code == 0
    ends: list[tuple[int, int]] = []

    async def insider(connection: AsyncConnection) -> None:
        chain_id = await busiest_chain(connection)
        ends.append((chain_id, len(await chain(connection, chain_id))))
        await rewrite_chain(connection, chain_id, lambda rows: rows[:-2])

    await log.as_owner(insider)
    broken = await log.verify()
    chain_id, length = ends[0]
    assert named(broken, chain_id, None, seq=length - 1), broken.output
    assert "records removed at the tail" in broken.output
    assert f"saw seq {length}, the chain ends at seq {length - 2}" in broken.output


async def test_a_chain_linked_again_without_one_of_its_records_is_caught_by_a_checkpoint(log: Log) -> None:
    await log.append(6)
    await log.checkpoint()
    await log.append(1, 1, 1)  # the service goes on after its checkpoint
    ends: list[int] = []

    async def insider(connection: AsyncConnection) -> None:
        chain_id = await busiest_chain(connection)
        ends.append(chain_id)
        await rewrite_chain(connection, chain_id, lambda rows: rows[:1] + rows[2:])  # every MAC still good

    await log.as_owner(insider)
    broken = await log.verify()
    assert broken.exit_code == 1
    assert f"chain {ends[0]}, seq " in broken.output
    assert "does not match the checkpoint of" in broken.output or "records removed at the tail" in broken.output


async def test_records_removed_from_the_start_of_a_chain_behind_a_forged_anchor_are_named(log: Log) -> None:
    """Retention anchors a chain on its last dropped record; an anchor younger than the retention is not one."""
    await log.append(4)
    anchored: list[int] = []

    async def insider(connection: AsyncConnection) -> None:
        chain_id = await busiest_chain(connection)
        anchored.append(chain_id)
        second = (await chain(connection, chain_id))[1]
        await connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        await connection.execute(text("DELETE FROM audit_event WHERE chain_id = :c AND seq <= 2"), {"c": chain_id})
        await connection.execute(
            text("INSERT INTO audit_chain_anchor VALUES (:c, 2, :hash, date_trunc('month', now()))"),
            {"c": chain_id, "hash": second["hash"]},
        )
        await connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))

    await log.as_owner(insider)
    broken = await log.verify()
    assert named(broken, anchored[0], None, seq=2), broken.output
    assert "records removed from the start of the chain (up to seq 2" in broken.output
    assert "younger than the retention of 120 months" in broken.output


async def test_records_under_two_keys_verify_and_one_under_an_unknown_key_does_not(log: Log) -> None:
    await log.append(3, 2)
    first = load_keyring(log.settings)
    key_file = log.data_dir / "audit" / "hmac-keys"
    key_file.write_text(f"{Keyring.new_line('k-rotated')}\n{key_file.read_text()}")  # the new key first
    rotated = load_keyring(log.settings)
    assert rotated.current_id == "k-rotated"
    await log.append(3, 1, keyring=rotated)
    intact = await log.verify()
    assert intact.exit_code == 0, intact.output
    assert f"4 under key k-rotated, 5 under key {first.current_id}" in intact.output
    rekeyed: list[Row] = []

    async def insider(connection: AsyncConnection) -> None:
        rogue = base64.b64decode(Keyring.new_line("rogue").split()[1])

        def change(rows: list[Row]) -> list[Row]:
            row = {**rows[0], "person_ssin": "75050575724", "key_id": "rogue"}
            from rp_api.audit_chain import canonical

            row["mac"] = mac(rogue, canonical(record_of(row), occurred_at=row["occurred_at"], key_id="rogue").content)
            rekeyed.append(row)
            return [row, *rows[1:]]

        await rewrite_chain(connection, await busiest_chain(connection), change)

    await log.as_owner(insider)
    broken = await log.verify()
    assert named(broken, rekeyed[0]["chain_id"], rekeyed[0]), broken.output
    assert "key id 'rogue', which is not in the key file" in broken.output


async def test_a_key_file_without_an_old_key_does_not_verify_its_records(log: Log) -> None:
    await log.append(2)
    key_file = log.data_dir / "audit" / "hmac-keys"
    key_file.write_text(Keyring.new_line("k-only-new") + "\n")
    broken = await log.verify()
    assert broken.exit_code == 1
    assert "not in the key file" in broken.output


async def test_a_forged_checkpoint_line_fails_the_verification(log: Log) -> None:
    await log.append(2)
    await log.checkpoint()
    file = checkpoint_path(log.settings)
    file.write_text(file.read_text().replace('"seq":2', '"seq":9'))
    broken = await log.verify()
    assert broken.exit_code == 1
    assert "signature does not verify" in broken.output


async def test_checkpoints_are_also_read_from_the_shipped_log(
    log: Log, logged: Callable[[], list[dict[str, Any]]], tmp_path: Path
) -> None:
    """The structured log line is the copy that leaves the machine: verify reads a shipped log as well."""
    import orjson

    from rp_api.logs import configure_logging

    configure_logging()
    await log.append(4)
    logged()
    await log.checkpoint()
    lines = [line for line in logged() if line.get("event") == "audit_checkpoint"]
    assert len(lines) == 1
    checkpoint_path(log.settings).unlink()  # the file is gone; the log is all there is
    shipped = tmp_path / "shipped.log"
    shipped.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))

    async def insider(connection: AsyncConnection) -> None:
        await rewrite_chain(connection, await busiest_chain(connection), lambda rows: rows[:-1])

    await log.as_owner(insider)
    assert (await log.verify()).exit_code == 0  # without the shipped log, nothing says the tail was longer
    broken = await log.verify("--checkpoints", str(shipped))
    assert broken.exit_code == 1
    assert "records removed at the tail" in broken.output


# --- legacy records, written before the log was keyed -----------------------------------------------------------
@pytest.fixture
async def legacy_database(server_url: URL) -> AsyncIterator[URL]:
    """A database migrated to the revision before the keyed log, then given records the way that revision wrote
    them, then migrated to head. The runtime role's URL."""
    name = f"rp_legacy_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = server_url.set(database=name)
    await asyncio.to_thread(migrate.upgrade, url, PREVIOUS_REVISION)
    engine = create_async_engine(url)
    for count in (3, 2):
        async with engine.begin() as connection:
            await _append_as_before(connection, [sample() for _ in range(count)])
    await engine.dispose()
    await asyncio.to_thread(migrate.upgrade, url)
    yield as_role(url, RUNTIME)
    await drop(server_url, name)


async def _append_as_before(connection: AsyncConnection, records: list[AuditRecord]) -> None:
    """The append of revision 5e2b7c0d9a13: canonical JSON cut around chain id, time and seq, no key."""
    from rp_api.audit_chain import canonical, timestamp

    at = datetime.now(UTC)
    cuts = [canonical(entry, occurred_at=at, key_id=None) for entry in records]
    before_time, after_time = zip(*(cut.after_chain.split(timestamp(at), 1) for cut in cuts), strict=True)
    await connection.execute(
        text(
            "SELECT rp_audit_append(:at, :ids, :traces, :users, :orgs, :types, :roles, :ops, :rtypes, :rids, "
            ":persons, :outcomes, :reasons, :bases, :statuses, :after_chain, :after_time, :after_seq)"
        ),
        {
            "at": at,
            "ids": [entry.id for entry in records],
            "traces": [entry.trace_id for entry in records],
            "users": [entry.user_ssin for entry in records],
            "orgs": [entry.organisation for entry in records],
            "types": [entry.organisation_type for entry in records],
            "roles": [",".join(entry.roles) for entry in records],
            "ops": [entry.operation for entry in records],
            "rtypes": [entry.resource_type for entry in records],
            "rids": [entry.resource_id for entry in records],
            "persons": [entry.person_ssin for entry in records],
            "outcomes": [entry.outcome for entry in records],
            "reasons": [entry.reason for entry in records],
            "bases": [entry.legal_basis for entry in records],
            "statuses": [entry.status for entry in records],
            "after_chain": list(before_time),
            "after_time": list(after_time),
            "after_seq": [cut.after_seq for cut in cuts],
        },
    )


@pytest.mark.usefixtures("clean_rp_environment")
async def test_records_written_before_the_log_was_keyed_verify_as_legacy(
    legacy_database: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = Log(legacy_database, tmp_path, monkeypatch)
    await log.append(2, 2)
    await log.checkpoint()
    intact = await log.verify()
    assert intact.exit_code == 0, intact.output
    assert "intact: 9 records verified" in intact.output
    assert "5 legacy records" in intact.output
    engine = create_async_engine(legacy_database)
    async with engine.connect() as connection:
        keyed = dict(
            (await connection.execute(text("SELECT key_id IS NULL, count(*) FROM audit_event GROUP BY 1"))).all()
        )
        legacy_until = await connection.scalar(text("SELECT sum(legacy_until) FROM audit_chain_head"))
    await engine.dispose()
    assert keyed == {True: 5, False: 4}
    assert legacy_until == 5
    signed = [json.loads(line) for line in checkpoint_path(log.settings).read_text().splitlines()]
    assert sum(head["legacyUntil"] for head in signed[-1]["auditCheckpoint"]["heads"]) == 5

    rewritten: list[Row] = []

    async def insider(connection: AsyncConnection) -> None:
        # The legacy record itself has no MAC: rewritten and linked again, only a checkpoint can tell.
        chain_id = int(
            await connection.scalar(text("SELECT min(chain_id) FROM audit_chain_head WHERE legacy_until > 0"))
        )

        def change(rows: list[Row]) -> list[Row]:
            rows[0] = {**rows[0], "person_ssin": "75050575724"}
            rewritten.append(rows[0])
            return rows

        await rewrite_chain(connection, chain_id, change)

    await log.as_owner(insider)
    broken = await log.verify()
    assert broken.exit_code == 1
    assert f"chain {rewritten[0]['chain_id']}, seq " in broken.output
    assert "does not match the checkpoint of" in broken.output


# --- time and chains, under concurrency and at a month's start -------------------------------------------------
async def test_concurrent_appends_keep_every_chain_s_months_in_order(own_database: URL, audit_keyring: Keyring) -> None:
    """Writers stamp before they take a chain, so a chain's records may be seconds out of time order; never across
    a month (retention drops months and anchors chains on their last dropped record)."""
    engine = create_async_engine(own_database, pool_size=40, max_overflow=0)

    async def call(n: int) -> None:
        async with AsyncSession(engine) as session, session.begin():
            await audit_repository.append(session, [sample() for _ in range(1 + n % 3)], keyring=audit_keyring)

    await asyncio.gather(*(call(n) for n in range(120)))
    async with engine.connect() as connection:
        months_back = await connection.scalar(
            text(
                "SELECT count(*) FROM (SELECT date_trunc('month', occurred_at) < lag(date_trunc('month', occurred_at))"
                " OVER (PARTITION BY chain_id ORDER BY seq) AS earlier FROM audit_event) t WHERE earlier"
            )
        )
        heads_agree = await connection.scalar(
            text(
                "SELECT bool_and(h.last_at = (SELECT max(e.occurred_at) FROM audit_event e "
                "WHERE e.chain_id = h.chain_id)) FROM audit_chain_head h WHERE h.seq > 0"
            )
        )
        verification = await audit_repository.verify(AsyncSession(bind=connection), audit_keyring)
    await engine.dispose()
    assert months_back == 0
    assert heads_agree
    assert verification.intact, verification.first_break
    assert verification.records == sum(1 + n % 3 for n in range(120))


LATER_MONTH = (
    "UPDATE audit_chain_head SET last_at = "
    "date_trunc('month', clock_timestamp() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 month'"
)


async def test_a_chain_with_a_record_of_a_later_month_is_not_taken(own_database: URL, audit_keyring: Keyring) -> None:
    """Seconds after a month began, some chains have records of it and some do not yet: a record stamped just
    before goes on one that does not."""

    owner = create_async_engine(as_role(own_database, OWNER))
    async with owner.begin() as connection:
        await connection.execute(text(LATER_MONTH + " WHERE chain_id <> 7"))
    engine = create_async_engine(own_database)
    for _ in range(3):
        async with AsyncSession(engine) as session, session.begin():
            await audit_repository.append(session, [sample()], keyring=audit_keyring)
    async with engine.connect() as connection:
        chains = set((await connection.execute(text("SELECT chain_id FROM audit_event"))).scalars())
    assert chains == {7}

    async with owner.begin() as connection:  # every chain: the database answers how much later, and writes nothing
        await connection.execute(text(LATER_MONTH))
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        ahead = await driver.fetchval(
            audit_repository._APPEND, *audit_repository._arguments([sample()], datetime.now(UTC), audit_keyring)
        )
        assert timedelta(0) < ahead <= timedelta(days=31)
        assert await connection.scalar(text("SELECT count(*) FROM audit_event")) == 3
    with pytest.raises(RuntimeError, match="later than this call's time"):  # after stamping again, in vain
        async with AsyncSession(engine) as session, session.begin():
            await audit_repository.append(session, [sample()], keyring=audit_keyring)
    await engine.dispose()
    await owner.dispose()


# --- the roles, as rp-api migrate and rp-api serve check them -----------------------------------------------
async def test_migrating_refuses_a_runtime_role_that_could_rewrite_the_log(server_url: URL) -> None:
    name = f"rp_roles_{uuid.uuid4().hex[:8]}"
    runtime_url = await create_migrated(server_url, name)
    url = server_url.set(database=name)
    superuser = server_url.username or "postgres"
    try:
        with pytest.raises(migrate.UnsafeRolesError, match="superuser or may act as"):
            await asyncio.to_thread(migrate.upgrade, url, roles=migrate.Roles(OWNER, superuser))
        admin = create_async_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:  # a runtime role that may act as the owner
            await connection.execute(text(f"CREATE ROLE {OWNER}_x LOGIN IN ROLE {OWNER}"))
        await admin.dispose()
        with pytest.raises(migrate.UnsafeRolesError, match="superuser or may act as"):
            await asyncio.to_thread(migrate.upgrade, url, roles=migrate.Roles(OWNER, OWNER + "_x"))
    finally:
        admin = create_async_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.execute(text(f"DROP ROLE IF EXISTS {OWNER}_x"))
        await admin.dispose()
        await drop(server_url, name)
    assert runtime_url.username == RUNTIME


@pytest.mark.usefixtures("clean_rp_environment")
async def test_serve_refuses_a_role_that_could_rewrite_the_log(
    owner_database_url: URL, server_url: URL, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RP_ENV", "test")
    monkeypatch.setenv("RP_DATA_DIR", str(tmp_path))
    for url in (owner_database_url, owner_database_url.set(username=server_url.username or "postgres")):
        monkeypatch.setenv("RP_DATABASE_URL", url.render_as_string(hide_password=False))
        refused = await asyncio.to_thread(CliRunner().invoke, cli, ["serve"])
        assert refused.exit_code == 2, refused.output
        assert "could rewrite the audit log" in refused.output


@pytest.mark.usefixtures("clean_rp_environment")
async def test_migrate_runs_as_the_owner_and_gives_the_database_its_retention(
    own_database: URL, server_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RP_DATABASE_URL", own_database.render_as_string(hide_password=False))
    monkeypatch.setenv("RP_MIGRATION_DATABASE_URL", as_role(own_database, OWNER).render_as_string(hide_password=False))
    monkeypatch.setenv("RP_AUDIT_RETENTION_MONTHS", "60")
    migrated = await asyncio.to_thread(CliRunner().invoke, cli, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    engine = create_async_engine(as_role(own_database, OWNER))  # the runtime role cannot even read it
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT months FROM audit_retention")) == 60
    await engine.dispose()
    monkeypatch.setenv("RP_DATABASE_RUNTIME_ROLE", server_url.username or "postgres")
    refused = await asyncio.to_thread(CliRunner().invoke, cli, ["migrate"])
    assert refused.exit_code == 2
    assert "not migrated" in refused.output


@pytest.mark.parametrize("who_migrates", ["an administrator who may create roles", "the owner, created beforehand"])
async def test_the_roles_on_a_managed_postgresql(server_url: URL, who_migrates: str) -> None:
    """No superuser: an administrator role with CREATEROLE (the migrations create the two roles and act as the
    owner), or an owner role the operator created (with the runtime role) and migrates as."""
    suffix = uuid.uuid4().hex[:6]
    admin, owner, runtime, name = f"rp_admin_{suffix}", f"rp_owner_{suffix}", f"rp_runtime_{suffix}", f"rp_m_{suffix}"
    superuser = create_async_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with superuser.connect() as connection:
        if who_migrates.startswith("an administrator"):
            await connection.execute(text(f"CREATE ROLE {admin} LOGIN CREATEROLE"))
            await connection.execute(text(f'CREATE DATABASE "{name}" OWNER {admin}'))
            migrator = admin
        else:
            await connection.execute(text(f"CREATE ROLE {owner} LOGIN"))
            await connection.execute(text(f"CREATE ROLE {runtime} LOGIN"))
            await connection.execute(text(f'CREATE DATABASE "{name}" OWNER {owner}'))
            migrator = owner
    url = server_url.set(database=name)
    try:
        await asyncio.to_thread(migrate.upgrade, as_role(url, migrator), roles=migrate.Roles(owner, runtime))
        engine = create_async_engine(as_role(url, runtime))
        async with engine.connect() as connection:
            owners = set(
                (
                    await connection.execute(
                        text(
                            "SELECT DISTINCT relowner::regrole::text FROM pg_class c JOIN pg_namespace n "
                            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
                        )
                    )
                ).scalars()
            )
            await connection.execute(text("SELECT count(*) FROM dossier"))
            async with connection.begin_nested() as attempt:
                with pytest.raises(DBAPIError, match="permission denied"):
                    await connection.execute(text("DELETE FROM audit_event"))
                await attempt.rollback()
        keyring = Keyring.parse(Keyring.new_line("k1"))
        async with AsyncSession(engine) as session, session.begin():
            await audit_repository.append(session, [sample()], keyring=keyring)
        async with AsyncSession(engine) as session:
            assert (await audit_repository.verify(session, keyring)).intact
        await engine.dispose()
        assert owners == {owner}
    finally:
        async with superuser.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for role in (runtime, owner, admin):
                await connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        await superuser.dispose()
