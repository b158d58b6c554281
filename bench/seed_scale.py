"""A database at scale: N dossiers with their registration forms, requests, INAMI's decisions, addressees and
participants, 20 × N audit records over 24 monthly partitions, and N change-feed events, built in minutes.

    .venv/bin/python bench/seed_scale.py [--dossiers 1000000] [--root DIR] [--rebuild] [--verify] [--workers 2]

Also a function (``bench/data_growth.py`` calls it for each of its sizes): :func:`build`.

Where: the embedded PostgreSQL of ``--root`` (default ``$TMPDIR/rp-bench-scale``: ``pgdata/`` and, in ``data/``,
the audit MAC key the records are keyed with and the API signs with), one database per size (``rp_scale_<N>``),
migrated by ``rp_api.migrate`` as every database is. A database whose recorded build (schema ``bench``) matches
the size, this script's version, the migrations' head and the audit key, and whose audit log has grown by less
than 5 % since, is reused; ``--rebuild`` builds it again. The server is given more shared buffers and WAL room
than the embedded default (``ALTER SYSTEM``, once), and a JSON server log for ``auto_explain``.

How: bulk SQL as the **owner role** (``SET ROLE``), never the ORM: ``INSERT … SELECT generate_series`` for the
dossiers and everything in them (deterministic ids, ``md5`` of the row's number, so that the Python side knows
them), and COPY (asyncpg ``copy_records_to_table``) for the audit log.

The audit log keeps every guarantee it has in production. Its records are written by the owner, who may INSERT
into the table it owns (the runtime role may not; the triggers refuse UPDATE, DELETE and TRUNCATE to everyone, and
stay in place), as complete keyed records: the seeder computes in Python, chain by chain and in seq order, what
``rp_audit_append`` computes in the database — each record's canonical JSON (checked against
``rp_api.audit_chain.canonical`` for every chain and month), its HMAC-SHA256 under the API's current key, and its
link (SHA-256 of the previous link, the canonical JSON with chain id and seq, and the MAC) — then moves the 16
chain heads to their last records. ``rp-api audit verify`` (``--verify`` here: ``audit.verify``) walks the seeded
log like any other and finds it intact; the API appends after it as usual. Neither the triggers were disabled nor
any record left for verification to skip. Each chain's records are in time order, month after month (the rule
``rp_audit_append`` keeps: no record after one of a later month), and end before the build started.

What (for N dossiers; persons are numbered 0 … N-1):
- persons: the first K are persons of the simulated population (``POPULATION``, the simulator the bench starts
  knows them): the reference persons the bench's pages read — persons registered with VDAB (their requests are
  VDAB's oldest work-list lines, its first decision-list lines of the week ``week``, and a page of its change feed
  half-way through it) and persons insured by CM (the dossiers the GETs rotate over). The others have valid bis
  numbers that no source knows, and links spread over the organisations of the registry.
- each person: a dossier, a registration form, a request (a fifth of them still at the insurer or at INAMI, 60 %
  decided), INAMI's decision on the decided ones (weekly rounds over two years), the addressees as work routing
  makes them (insurer, regional service, INAMI once a request reached it, the prevention service whose physician
  created the form) and the dossier's participants; a follow-up record on approved requests, a revision on one
  request in 20, an SSIN replacement for one person in 1,000.
- N feed events over eight organisations' feeds, four per transaction id (ids spent first, one committed
  transaction each, so that every event is behind the readers' horizon).
- 20 × N audit records on 16 chains over the 24 months up to the build, each naming a person at random (about 10
  per person per year) and a user of one of the registry's organisations.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from sqlalchemy.engine import URL, make_url

from rp_api import embedded, migrate
from rp_api.audit_chain import Keyring, canonical, timestamp
from rp_api.audit_keys import load_keyring
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.actors import OrganisationType
from rp_api.domain.audit import AuditRecord
from rp_api.domain.legal_basis import basis_of
from rp_api.identifiers import make_ssin
from rp_api.models.audit import AUDIT_CHAINS
from rp_api.settings import Environment, Settings, as_asyncpg_url
from rp_api.simulator.population import build_population

VERSION = 1
"""Bumped whenever what is seeded changes: a database built by another version is built again."""
POPULATION = 2000
"""The simulated population the bench's simulator must serve (``RP_SIMULATOR__POPULATION_SIZE``)."""
AUDIT_PER_DOSSIER = 20
MONTHS = 24
EVENTS_PER_XID = 4
GROWTH_ALLOWED = 0.05
"""A reused database may have gained this share of audit records since it was built (each bench run appends
some); beyond it, it is built again."""
DEFAULT_ROOT = Path(tempfile.gettempdir()) / "rp-bench-scale"
SERVER_SETTINGS = {
    "shared_buffers": "1GB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "maintenance_work_mem": "512MB",
    "logging_collector": "on",
    "log_destination": "jsonlog",
    "log_directory": "pglog",
    "log_rotation_size": "100MB",
}
"""The scale server's settings (the embedded default has 128 MB of shared buffers and 1 GB of WAL between
checkpoints); the JSON server log is where ``auto_explain`` writes the plans the bench reads."""
FEED_SLOTS = 8
"""Events go round eight feeds: an insurer, VDAB, Le Forem, Actiris, ADG, INAMI, a prevention service, another
insurer."""
VDAB_SLOT = 1
FILLER_BIRTH = date(1930, 1, 1)
FILLER_MONTH_OFFSET = 40
"""Persons not in the simulated population have bis numbers (month + 40) from 1930 on: no source knows them, and
none is a simulated person's SSIN (born 1960-1999, no offset) or a user's (offset 20)."""


def filler_ssin(person: int) -> str:
    """The SSIN of person number ``person`` outside the simulated population (the SQL of :data:`PERSONS` makes the
    same)."""
    return make_ssin(
        FILLER_BIRTH + timedelta(days=person // 997), 1 + person % 997, bis_month_offset=FILLER_MONTH_OFFSET
    )


class FillerSsins:
    """:func:`filler_ssin`, faster (the audit log names 20 persons a dossier): each birth day's digits made once."""

    def __init__(self, persons: int) -> None:
        days = (FILLER_BIRTH + timedelta(days=n) for n in range(persons // 997 + 1))
        self.days = [f"{day:%y}{day.month + FILLER_MONTH_OFFSET:02d}{day:%d}" for day in days]

    def __call__(self, person: int) -> str:
        base = f"{self.days[person // 997]}{1 + person % 997:03d}"
        return f"{base}{97 - int(base) % 97:02d}"


_FILLER_SSIN_SQL = """
(SELECT base || lpad((97 - base::bigint % 97)::text, 2, '0') FROM (
    SELECT to_char(day, 'YY') || lpad((extract(month FROM day)::int + 40)::text, 2, '0') || to_char(day, 'DD')
           || lpad((1 + {i} % 997)::text, 3, '0') AS base
    FROM (SELECT DATE '1930-01-01' + ({i} / 997)::int AS day) AS d
) AS b)"""


def uuid_of(kind: str, person: int) -> str:
    """The id of person ``person``'s dossier (``d``), form (``f``), request (``r``) or decision (``x``): the md5 of
    the kind and the number, as PostgreSQL's ``md5(kind || n)::uuid`` gives it."""
    digest = hashlib.md5(f"{kind}{person}".encode(), usedforsecurity=False).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


@dataclass(frozen=True)
class Reference:
    """The simulated persons the bench's pages and GETs read, and where their items are."""

    vdab: tuple[str, ...]
    """Persons registered with VDAB: persons 0 … len - 1."""
    cm: tuple[str, ...]
    """Persons insured by CM (OA 100): the next ones."""
    vdab_insurers: tuple[str, ...]
    cm_regional: tuple[str | None, ...]

    @property
    def ssins(self) -> tuple[str, ...]:
        return self.vdab + self.cm


def reference_persons(dossiers: int) -> Reference:
    """VDAB's reference persons (as many as a page: 100, fewer in a tiny database) and CM's (50, fewer likewise),
    from the simulated population the bench's simulator serves."""
    registry = OrganisationRegistry.load()
    vdab = _org(registry, "VDAB")
    insurer_of = {o.oa_number: o.enterprise_number for o in registry if o.oa_number is not None}
    population = build_population(POPULATION)
    living = [
        p
        for p in population.persons.values()
        if not p.death_date and not p.replaced_by and not p.previous_ssins and p.ssin != population.unknown_ssin
    ]
    page, gets = min(100, dossiers // 4), min(50, dossiers // 4)
    insured = [p for p in living if p.oa_number is not None]  # every person with a form has an insurer
    with_vdab = [p for p in insured if any(service == vdab for service, _ in p.registrations)][:page]
    chosen = {p.ssin for p in with_vdab}
    cm_number = registry.find("CM")
    assert cm_number is not None
    with_cm = [p for p in insured if p.oa_number == cm_number.oa_number and p.ssin not in chosen][:gets]
    if len(with_vdab) < page or len(with_cm) < gets:
        raise SystemExit(f"seed_scale: the population of {POPULATION} has too few persons with VDAB or CM")
    return Reference(
        vdab=tuple(p.ssin for p in with_vdab),
        cm=tuple(p.ssin for p in with_cm),
        vdab_insurers=tuple(insurer_of[p.oa_number] for p in with_vdab if p.oa_number is not None),
        cm_regional=tuple(p.registrations[0][0] if p.registrations else None for p in with_cm),
    )


def _org(registry: OrganisationRegistry, name: str) -> str:
    found = registry.find(name)
    assert found is not None, name
    return found.enterprise_number


@dataclass
class ScaleDatabase:
    """A built database: what it holds, and where the bench's reference items are."""

    name: str
    dossiers: int
    audit_records: int
    feed_events: int
    built_at: str
    seconds: float
    """How long the build took (the first time)."""
    version: int
    schema: str
    """The migrations' head it was built at."""
    key_id: str
    page: int
    """Lines of a reference page of the work list and the decision list (100; fewer in a tiny database)."""
    feed_page: int
    """Lines of the reference feed page (as many, unless VDAB's feed is too short for them)."""
    week: str
    """The ISO week of VDAB's reference decision-list page."""
    feed_after: list[int]
    """The feed position (xid, seq) VDAB's reference page follows: half-way through its feed (not stored: read
    from the feed each time)."""
    feed_depth: int
    gets: list[str]
    """The dossiers of CM's reference persons."""
    auditees: list[str]
    """Persons whose accesses the auditor's reference queries ask for."""
    audit_until: str
    """The time of the last seeded audit record."""
    steps: dict[str, float] = field(default_factory=dict)
    reused: bool = False
    url: str = ""
    """The superuser's URL of the database (not stored)."""

    def runtime_url(self) -> str:
        return make_url(self.url).set(username=migrate.Roles().runtime).render_as_string(hide_password=False)

    def stored(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("reused", "url", "feed_after")}


# --- the server -------------------------------------------------------------------------------------------------


def server(root: Path = DEFAULT_ROOT) -> embedded.EmbeddedServer:
    """The scale server of ``root`` running, with :data:`SERVER_SETTINGS` (set once, then restarted)."""
    pgdata = root / "pgdata"
    running = embedded.start_embedded(pgdata)

    async def differing() -> list[str]:
        connection = await _connect(running.url, "postgres")
        try:
            found = []
            for name, wanted in SERVER_SETTINGS.items():
                row = await connection.fetchrow(
                    "SELECT setting, unit, pending_restart FROM pg_settings WHERE name = $1", name
                )
                if row is None or row["pending_restart"] or not _same(row["setting"], row["unit"], wanted):
                    found.append(name)
            for name in found:
                await connection.execute(f"ALTER SYSTEM SET {name} = '{SERVER_SETTINGS[name]}'")
            return found
        finally:
            await connection.close()

    if asyncio.run(differing()):
        embedded.stop_embedded(pgdata)
        running = embedded.start_embedded(pgdata)
    return running


def _same(setting: str, unit: str | None, wanted: str) -> bool:
    units = {"kB": 1024, "8kB": 8192, "MB": 1 << 20, "GB": 1 << 30, "min": 60, "s": 1, "ms": 0.001}
    for suffix in ("GB", "MB", "kB", "min", "ms", "s"):
        if wanted.endswith(suffix) and wanted[: -len(suffix)].isdigit() and unit in units:
            return float(setting) * units[unit] == int(wanted[: -len(suffix)]) * units[suffix]
    return setting == wanted


async def _connect(url: str, database: str, **kwargs: Any) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        user=parsed.username, host=parsed.query.get("host") or parsed.host, port=parsed.port, database=database,
        **kwargs,
    )  # fmt: skip


def pg_log_dir(root: Path = DEFAULT_ROOT) -> Path:
    return root / "pgdata" / "pglog"  # (``pgdata/log`` is the file the wheel's ``pg_ctl -l`` writes)


# --- build ------------------------------------------------------------------------------------------------------


def say(line: str) -> None:
    print(line, flush=True)


def build(
    running: embedded.EmbeddedServer,
    dossiers: int,
    *,
    root: Path = DEFAULT_ROOT,
    rebuild: bool = False,
    workers: int = 2,
    verify: bool = False,
    log: Any = say,
) -> ScaleDatabase:
    """The database of ``dossiers`` dossiers on ``running`` (see the module): reused when it matches, else built."""
    name = f"rp_scale_{dossiers}"
    url = make_url(running.url).set(database=name).render_as_string(hide_password=False)
    keyring = load_keyring(bench_settings(root))
    head = _migrations_head()
    if not rebuild:
        found = asyncio.run(_recorded(running.url, name))
        reason = _why_not_reusable(found, dossiers, head, keyring.current_id)
        if found is not None and reason is None:
            reused = ScaleDatabase(**{**found["info"], "feed_after": []}, reused=True, url=url)
            reused.feed_after = asyncio.run(_feed_after(url, reused.feed_depth))
            log(f"seed_scale: {name} reused (built {reused.built_at} in {reused.seconds:.0f} s)")
            if verify:
                _verify(url, keyring, log)
            return reused
        log(f"seed_scale: building {name} ({reason})")
    else:
        log(f"seed_scale: building {name} (--rebuild)")
    started = time.perf_counter()
    asyncio.run(_recreate(running.url, name))
    checkpoints_file(root, name).unlink(missing_ok=True)  # the signed heads of a database of that name before
    migrate.upgrade(as_asyncpg_url(url))
    info = asyncio.run(_seed(url, name, dossiers, keyring, head, workers=workers, log=log))
    info.seconds = round(time.perf_counter() - started, 1)
    info.feed_after = asyncio.run(_feed_after(url, info.feed_depth))
    asyncio.run(_record(url, info))
    steps = ", ".join(f"{label} {seconds:.0f} s" for label, seconds in info.steps.items())
    log(f"seed_scale: {name} built in {info.seconds:.0f} s ({steps})")
    if verify:
        _verify(url, keyring, log)
    info.url = url
    return info


def bench_settings(root: Path) -> Settings:
    """The settings whose data directory holds the audit key the records are keyed with (the API's, too)."""
    return Settings(env=Environment.DEV, data_dir=root / "data")


def checkpoints_file(root: Path, name: str) -> Path:
    """Where the API serving database ``name`` signs its chain heads (one file per database: a database built
    again starts a new file)."""
    return root / "data" / f"checkpoints-{name}.jsonl"


def _migrations_head() -> str:
    from alembic.script import ScriptDirectory

    from rp_api.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(URL.create("postgresql+asyncpg"))).get_current_head()
    return str(head)


async def _recorded(server_url: str, name: str) -> dict[str, Any] | None:
    connection = await _connect(server_url, "postgres")
    try:
        if not await connection.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name):
            return None
    finally:
        await connection.close()
    connection = await _connect(server_url, name)
    try:
        if not await connection.fetchval("SELECT to_regclass('bench.scale') IS NOT NULL"):
            return None
        info = orjson.loads(await connection.fetchval("SELECT info FROM bench.scale"))
        since = datetime.fromisoformat(info["audit_until"])
        grown = await connection.fetchval("SELECT count(*) FROM audit_event WHERE occurred_at > $1", since)
        current = await connection.fetchval("SELECT version_num FROM alembic_version")
        return {"info": info, "grown": int(grown), "schema": current}
    finally:
        await connection.close()


def _why_not_reusable(found: dict[str, Any] | None, dossiers: int, head: str, key_id: str) -> str | None:
    if found is None:
        return "none yet"
    info = found["info"]
    if info.get("version") != VERSION or info.get("dossiers") != dossiers:
        return "built by another version of this script"
    if found["schema"] != head or info.get("schema") != head:
        return f"built at migration {info.get('schema')}, head is {head}"
    if info.get("key_id") != key_id:
        return "keyed under another audit key"
    if found["grown"] > GROWTH_ALLOWED * info["audit_records"]:
        return f"its audit log grew by {found['grown']} records since"
    return None


async def _feed_after(url: str, depth: int) -> list[int]:
    """The position of VDAB's ``depth``-th event: its reference feed page comes after it. (Ordered by the column:
    an output alias ``xid`` of the text would sort "10" before "9".)"""
    registry = OrganisationRegistry.load()
    connection = await _connect(url, make_url(url).database or "")
    try:
        found = await connection.fetchrow(
            "SELECT feed_event.xid::text AS xid_text, feed_event.seq FROM feed_event WHERE organisation = $1 "
            "ORDER BY feed_event.xid, feed_event.seq OFFSET $2 LIMIT 1",
            _org(registry, "VDAB"),
            depth - 1,
        )
        return [int(found["xid_text"]), int(found["seq"])]
    finally:
        await connection.close()


async def _recreate(server_url: str, name: str) -> None:
    connection = await _connect(server_url, "postgres")
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()


async def _record(url: str, info: ScaleDatabase) -> None:
    connection = await _connect(url, make_url(url).database or "")
    try:
        await connection.execute("CREATE SCHEMA IF NOT EXISTS bench")
        await connection.execute("DROP TABLE IF EXISTS bench.scale")
        await connection.execute("CREATE TABLE bench.scale (info jsonb NOT NULL)")
        await connection.execute("INSERT INTO bench.scale VALUES ($1::jsonb)", orjson.dumps(info.stored()).decode())
    finally:
        await connection.close()


def _verify(url: str, keyring: Keyring, log: Any) -> None:
    """What ``rp-api audit verify`` does, on the seeded database."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from rp_api.repositories import audit as audit_repository

    async def run() -> audit_repository.Verification:
        engine = create_async_engine(as_asyncpg_url(url))
        try:
            async with AsyncSession(engine) as session, session.begin():
                await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
                return await audit_repository.verify(session, keyring)
        finally:
            await engine.dispose()

    started = time.perf_counter()
    result = asyncio.run(run())
    if not result.intact:
        raise SystemExit(f"seed_scale: the audit log does not verify: {result.first_break}")
    log(f"seed_scale: audit log intact, {result.records} records verified in {time.perf_counter() - started:.0f} s")


# --- the SQL ----------------------------------------------------------------------------------------------------

PERSONS = f"""
CREATE UNLOGGED TABLE bench_seed_person AS
SELECT i,
    CASE WHEN i < $1 THEN ($2::text[])[i + 1] ELSE {_FILLER_SSIN_SQL.format(i="i")} END AS ssin,
    CASE WHEN i < $1 THEN ($3::text[])[i + 1] ELSE ($4::text[])[1 + i % cardinality($4::text[])] END AS insurer,
    CASE WHEN i < $1 THEN ($5::text[])[i + 1]
         WHEN i % 5 <> 4 THEN ($6::text[])[1 + i % cardinality($6::text[])] END AS regional,
    i < $7 AS vdab_reference,
    md5('d' || i)::uuid AS dossier_id, md5('f' || i)::uuid AS form_id, md5('r' || i)::uuid AS request_id,
    CASE WHEN i < $7 THEN $8::timestamptz - interval '10 days'
         ELSE $8::timestamptz + ((i::bigint * 2654435761) % $9) * interval '1 second' END AS created_at,
    CASE WHEN i < $1 OR i % 20 > 1 THEN 'submitted' WHEN i % 20 = 0 THEN 'draft' ELSE 'cancelled' END
        AS form_status,
    CASE WHEN i % 10 < 6 THEN 'insurer' WHEN i % 10 < 9 THEN 'preventionService' ELSE 'insurerPhysician' END
        AS creator_kind,
    ($10::text[])[1 + (i / 10) % cardinality($10::text[])] AS prevention,
    CASE WHEN i < $7 THEN 'approved'
         ELSE (ARRAY['awaitingInsurerValidation', 'awaitingInsurerValidation', 'awaitingInsurerValidation',
                     'atInami', 'atInami', 'atInami', 'approved', 'approved', 'approved', 'approved', 'approved',
                     'approved', 'approved', 'approved', 'approved', 'approved', 'refused', 'refused', 'withdrawn',
                     'refusedByInsurer'])[1 + i % 20] END AS request_status
FROM generate_series(0, $11 - 1) AS i
"""  # noqa: S608 - a fixed expression, no input
"""One row per person: $1 reference persons (their SSINs $2, insurers $3, regional services $5), the first $7 of
them VDAB's; filler insurers $4, regional services $6 and prevention services $10; $8 the start, $9 the span in
seconds; $11 persons."""

DOSSIERS = """
INSERT INTO dossier (id, ssin, status, closed_at, created_at, updated_at, version)
SELECT dossier_id, ssin,
    CASE WHEN request_status IN ('refused', 'withdrawn') AND i % 3 = 0 THEN 'closed' ELSE 'active' END,
    CASE WHEN request_status IN ('refused', 'withdrawn') AND i % 3 = 0 THEN created_at + interval '70 days' END,
    created_at, created_at + interval '70 days', 1
FROM bench_seed_person
"""

FORMS = """
INSERT INTO registration_form (id, dossier_id, routing, status, version, created_by_organisation, created_by_type,
    created_by_role, created_at, updated_at, submitted_at, expectations, work_problems, incapacity_start_date,
    insurer_contacts, occupational_physician_name, question_expectations)
SELECT form_id, dossier_id, 'standard', form_status, 1,
    CASE creator_kind WHEN 'preventionService' THEN prevention ELSE insurer END,
    CASE creator_kind WHEN 'preventionService' THEN 'preventionService' ELSE 'insurer' END,
    CASE creator_kind WHEN 'preventionService' THEN 'occupationalPhysician' WHEN 'insurer'
         THEN 'returnToWorkCoordinator' ELSE 'medicalAdvisor' END,
    created_at + interval '1 day', created_at + interval '2 days',
    CASE WHEN form_status = 'submitted' THEN created_at + interval '2 days' END,
    'Resume work part-time in logistics', 'Cannot lift heavy loads for long periods',
    (created_at - interval '120 days')::date, '{}'::jsonb,
    CASE creator_kind WHEN 'preventionService' THEN 'Dr. A. Peeters' END,
    'Which adapted tasks could the person take up?'
FROM bench_seed_person
"""

REQUESTS = """
INSERT INTO request (id, dossier_id, registration_form_id, type, status, version, requester_organisation,
    requester_type, requester_role, created_at, updated_at, training_project, trainings, total_cost, insurer_contacts,
    validated, validated_at)
SELECT request_id, dossier_id, form_id, CASE WHEN i % 3 = 2 THEN 'coaching' ELSE 'training' END, request_status, 1,
    coalesce(regional, insurer), CASE WHEN regional IS NULL THEN 'insurer' ELSE 'regionalService' END,
    CASE WHEN regional IS NULL THEN 'returnToWorkCoordinator' ELSE 'referenceAdvisor' END,
    created_at + interval '5 days',
    CASE WHEN vdab_reference THEN $1::timestamptz - interval '1 day' + i * interval '1 millisecond'
         ELSE created_at + interval '5 days' + ((i::bigint * 40503) % 4320000) * interval '1 second' END,
    'Logistics',
    '[{"id": "t1", "provider": "Syntra", "title": "Forklift operator", "startDate": "2027-01-04",
       "endDate": "2027-03-26", "plannedHours": 120, "cost": "1450.00"}]'::jsonb,
    1450, '{}'::jsonb,
    CASE WHEN request_status NOT IN ('awaitingInsurerValidation', 'refusedByInsurer') THEN true END,
    CASE WHEN request_status NOT IN ('awaitingInsurerValidation', 'refusedByInsurer')
         THEN created_at + interval '6 days' END
FROM bench_seed_person
"""
"""$1: the start (VDAB's reference requests are the oldest changes of its work list)."""

_DECIDED = """
WITH decided AS (
    SELECT p.i, p.request_id, p.request_status,
        CASE WHEN p.vdab_reference THEN $1::timestamptz + p.i * interval '1 microsecond'
             ELSE r.updated_at + interval '500 milliseconds' END AS decided_at
    FROM bench_seed_person p JOIN request r ON r.id = p.request_id
    WHERE p.request_status IN ('approved', 'refused')
),
weeks AS (
    SELECT *, to_char(decided_at AT TIME ZONE 'UTC', 'IYYY-"W"IW') AS week FROM decided
)
"""
ROUNDS = (
    _DECIDED
    + """INSERT INTO decision_round (id, week, recorded_by, recorded_at)
SELECT md5('w' || week)::uuid, week, $2, max(decided_at) FROM weeks GROUP BY week
"""
)
"""A round per week ($1: the reference week's Monday, $2: INAMI)."""
DECISIONS = (
    _DECIDED
    + """INSERT INTO decision (id, request_id, round_id, week, outcome, approved_amount, period_start, period_end,
    motivation, decided_at)
SELECT md5('x' || i)::uuid, request_id, md5('w' || week)::uuid, week, request_status,
    CASE WHEN request_status = 'approved' THEN 1450 END,
    (decided_at + interval '30 days')::date, (decided_at + interval '120 days')::date,
    'The training fits the remaining capacities the médecin-conseil assessed.', decided_at
FROM weeks
"""
)
"""$1: the reference week's Monday (VDAB's reference decisions are its first that week; the others are decided
when their request last changed)."""

ADDRESSEES = """
INSERT INTO addressee (resource_id, enterprise_number, resource_type, dossier_id, since)
SELECT form_id, insurer, 'registrationForm', dossier_id, created_at + interval '2 days' FROM bench_seed_person
    WHERE form_status <> 'draft' AND insurer IS NOT NULL
UNION ALL
SELECT form_id, regional, 'registrationForm', dossier_id, created_at + interval '2 days' FROM bench_seed_person
    WHERE form_status = 'submitted' AND regional IS NOT NULL
UNION ALL
SELECT request_id, insurer, 'request', dossier_id, created_at + interval '5 days' FROM bench_seed_person
    WHERE insurer IS NOT NULL
UNION ALL
SELECT request_id, regional, 'request', dossier_id, created_at + interval '5 days' FROM bench_seed_person
    WHERE regional IS NOT NULL
UNION ALL
SELECT request_id, $1, 'request', dossier_id, created_at + interval '6 days' FROM bench_seed_person
    WHERE request_status IN ('atInami', 'approved', 'refused')
UNION ALL
SELECT request_id, prevention, 'request', dossier_id, created_at + interval '5 days' FROM bench_seed_person
    WHERE creator_kind = 'preventionService'
"""
"""$1: INAMI."""

PARTICIPANTS = """
INSERT INTO dossier_participant (dossier_id, enterprise_number, since)
SELECT dossier_id, enterprise_number, min(since) FROM (
    SELECT dossier_id, enterprise_number, since FROM addressee
    UNION ALL
    SELECT dossier_id, created_by_organisation, created_at FROM registration_form
) AS taking_part
GROUP BY dossier_id, enterprise_number
"""

FOLLOW_UPS = """
INSERT INTO follow_up (id, request_id, dossier_id, event, occurred_on, recorded_by, recorded_by_role, recorded_at)
SELECT md5('u' || p.i)::uuid, p.request_id, p.dossier_id, 'started', (x.decided_at + interval '30 days')::date,
    r.requester_organisation, r.requester_role, x.decided_at + interval '30 days'
FROM bench_seed_person p JOIN request r ON r.id = p.request_id JOIN decision x ON x.request_id = p.request_id
WHERE p.request_status = 'approved' AND NOT p.vdab_reference
"""

REVISIONS = """
INSERT INTO request_revision (request_id, version, content, amended_at, amended_by)
SELECT p.request_id, 1, '{"trainingProject": "Warehouse", "totalCost": "1200.00"}'::jsonb,
    r.created_at + interval '1 day', r.requester_organisation
FROM bench_seed_person p JOIN request r ON r.id = p.request_id
WHERE p.i % 20 = 7 AND p.i >= $1
"""

REPLACEMENTS = f"""
INSERT INTO ssin_replacement (old_ssin, new_ssin, recorded_at, trace_id)
SELECT {_FILLER_SSIN_SQL.format(i="($2::int + j)")}, p.ssin, p.created_at, 'seed'
FROM generate_series(0, $3::int - 1) AS j JOIN bench_seed_person p ON p.i = $1::int + j * 997 % ($2::int - $1::int)
"""  # noqa: S608 - a fixed expression, no input
"""$1: the first filler person, $2: persons (old SSINs are those of persons past the last), $3: replacements."""

SPEND_XIDS = """
DO $$
BEGIN
    FOR i IN 1..{count} LOOP
        PERFORM pg_current_xact_id();
        COMMIT;
    END LOOP;
END $$
"""

EVENTS = """
INSERT INTO feed_event (xid, organisation, kind, medical, dossier_id, resource_id, occurred_at)
SELECT CAST(CAST($1::bigint + e / $2::int AS text) AS xid8), ($3::text[])[1 + e % $4::int],
    (ARRAY['requestChanged', 'formChanged', 'decisionRecorded'])[1 + e % 3], false,
    md5('d' || person)::uuid, md5(CASE WHEN e % 3 = 1 THEN 'f' ELSE 'r' END || person)::uuid,
    $5::timestamptz + (e * $6::bigint)::double precision * interval '1 microsecond'
FROM (
    SELECT e,
        CASE WHEN e % $4::int = $7::int AND e / $4::int >= $8::int AND e / $4::int < $8::int + $9::int
             THEN e / $4::int - $8::int
             ELSE $10::int + (e::bigint * 7919) % ($11::int - $10::int) END AS person
    FROM generate_series(0, $12::int - 1) AS e
) AS events
ORDER BY e
"""
"""Event e: transaction ``$1 + e / $2``, feed ``$3[e mod $4]``; VDAB's events (slot $7) number $8 to $8 + $9 - 1
name its reference persons, every other event a filler person ($10 … $11 - 1); $5 the start, $6 µs apart; $12
events. Each organisation's events are its slot's (another slot of the same insurer shares its feed)."""


LOADED = (
    "dossier", "dossier_participant", "addressee", "registration_form", "request", "decision_round", "decision",
    "follow_up", "request_revision", "ssin_replacement",
)  # fmt: skip
"""The tables loaded in bulk, whose secondary indexes and foreign keys are made after their rows."""

_DEFERRABLE = """
SELECT 'index' AS kind, c.relname AS name, t.relname AS on_table, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname = ANY($1::text[]) AND t.relnamespace = 'public'::regnamespace
    AND NOT i.indisprimary AND NOT i.indisunique
UNION ALL
SELECT 'foreign key', k.conname, t.relname, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
WHERE k.contype = 'f' AND t.relname = ANY($1::text[]) AND t.relnamespace = 'public'::regnamespace
ORDER BY 1, 2
"""


async def _defer(connection: asyncpg.Connection, tables: Sequence[str]) -> list[asyncpg.Record]:
    """Drop the secondary indexes and foreign keys of ``tables`` (the owner's to drop and make), to make them again
    once the rows are in (:func:`_restore`): an index built from sorted rows, and a foreign key validated in one
    join, cost a fraction of millions of insertions in random order and of a check per row. Primary keys and
    unique constraints stay, checked as the rows go in."""
    deferred = list(await connection.fetch(_DEFERRABLE, list(tables)))
    for item in deferred:
        if item["kind"] == "foreign key":
            await connection.execute(f'ALTER TABLE public."{item["on_table"]}" DROP CONSTRAINT "{item["name"]}"')
    for item in deferred:
        if item["kind"] == "index":
            await connection.execute(f'DROP INDEX public."{item["name"]}"')
    return deferred


async def _restore(connection: asyncpg.Connection, tables: Sequence[str], deferred: list[asyncpg.Record]) -> None:
    """Make again what :func:`_defer` dropped, from its own definitions (each foreign key validated), and check
    that the tables have exactly the indexes and foreign keys they had."""
    for item in deferred:
        if item["kind"] == "index":
            # A partitioned table's index is defined ON ONLY the parent: made on the parent, it is made on every
            # partition too, under the names it had.
            await connection.execute(item["definition"].replace(" ON ONLY ", " ON ", 1))
    for item in deferred:
        if item["kind"] == "foreign key":
            await connection.execute(
                f'ALTER TABLE public."{item["on_table"]}" ADD CONSTRAINT "{item["name"]}" {item["definition"]}'
            )
    again = [tuple(row) for row in await connection.fetch(_DEFERRABLE, list(tables))]
    if again != [tuple(row) for row in deferred]:
        raise AssertionError(f"seed_scale: the indexes and foreign keys differ after the load: {again}")


async def _seed(
    url: str, name: str, dossiers: int, keyring: Keyring, head: str, *, workers: int, log: Any
) -> ScaleDatabase:
    registry = OrganisationRegistry.load()
    insurers = sorted(o.enterprise_number for o in registry if o.type is OrganisationType.INSURER and o.oa_number)
    regional = sorted(o.enterprise_number for o in registry if o.type is OrganisationType.REGIONAL_SERVICE)
    prevention = sorted(o.enterprise_number for o in registry if o.type is OrganisationType.PREVENTION_SERVICE)
    inami, vdab = _org(registry, "INAMI"), _org(registry, "VDAB")
    reference = reference_persons(dossiers)
    k = len(reference.ssins)
    now = datetime.now(UTC).replace(microsecond=0)
    start = _month_start(now, -(MONTHS - 1))
    span_s = int((now - timedelta(days=90) - start).total_seconds())
    week_monday = _monday(now - timedelta(days=60))
    iso = week_monday.isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    vdab_index = regional.index(vdab)
    steps: dict[str, float] = {}

    connection = await _connect(url, name)
    try:
        await connection.execute(f"SET ROLE {migrate.Roles().owner}")
        await connection.execute("SET synchronous_commit = off")
        await connection.execute("SET maintenance_work_mem = '512MB'")

        async def step(label: str, sql: str, *args: Any) -> None:
            began = time.perf_counter()
            await connection.execute(sql, *args)
            steps[label] = steps.get(label, 0.0) + time.perf_counter() - began
            log(f"seed_scale:   {label}: {steps[label]:.1f} s")

        await step(
            "persons",
            PERSONS,
            k,
            list(reference.ssins),
            [*reference.vdab_insurers, *[_org(registry, "CM")] * len(reference.cm)],
            insurers,
            [vdab] * len(reference.vdab) + list(reference.cm_regional),
            regional,
            len(reference.vdab),
            start,
            span_s,
            prevention,
            dossiers,
        )
        sample = await connection.fetch(
            "SELECT i, ssin FROM bench_seed_person WHERE i >= $1 ORDER BY i LIMIT 3", k
        )  # the SQL and Python make the same SSINs
        assert all(row["ssin"] == filler_ssin(row["i"]) for row in sample), sample
        async with connection.transaction():
            deferred = await _defer(connection, LOADED)
            await step("dossiers", DOSSIERS)
            await step("forms", FORMS)
            await step("requests", REQUESTS, start)
            await step("decisions", ROUNDS, week_monday, inami)
            await step("decisions", DECISIONS, week_monday)
            await step("addressees", ADDRESSEES, inami)
            await step("participants", PARTICIPANTS)
            await step("follow-ups, revisions, replacements", FOLLOW_UPS)
            await step("follow-ups, revisions, replacements", REVISIONS, k)
            if dossiers - k > 0:
                await step("follow-ups, revisions, replacements", REPLACEMENTS, k, dossiers, max(1, dossiers // 1000))
            began = time.perf_counter()
            await _restore(connection, LOADED, deferred)
            steps["indexes and foreign keys"] = time.perf_counter() - began
            log(f"seed_scale:   indexes and foreign keys: {steps['indexes and foreign keys']:.1f} s")
        await connection.execute("DROP TABLE bench_seed_person")

        # The feed: transaction ids spent first (each event's must be a committed one, behind every reader).
        events = dossiers
        xids = (events + EVENTS_PER_XID - 1) // EVENTS_PER_XID
        began = time.perf_counter()
        first = int(await connection.fetchval("SELECT pg_current_xact_id()::text")) + 1
        await connection.execute(SPEND_XIDS.format(count=int(xids)))
        steps["feed: transaction ids"] = time.perf_counter() - began
        vdab_events = (events - VDAB_SLOT + FEED_SLOTS - 1) // FEED_SLOTS
        depth = vdab_events // 2
        feed_page = min(len(reference.vdab), vdab_events - depth)
        slots = [insurers[0], vdab, regional[(vdab_index + 1) % 4], regional[(vdab_index + 2) % 4]]
        slots += [regional[(vdab_index + 3) % 4], inami, prevention[0], insurers[1]]
        assert slots[VDAB_SLOT] == vdab
        step_us = max(1, int(span_s * 1_000_000 / max(events, 1)))
        await step(
            "feed events",
            EVENTS,
            first,
            EVENTS_PER_XID,
            slots,
            FEED_SLOTS,
            start,
            step_us,
            VDAB_SLOT,
            depth,
            feed_page,
            k if dossiers > k else 0,
            dossiers,
            events,
        )

        # The audit log: partitions of the 24 months (and the next ones), then the chains, computed here; its
        # person and organisation indexes made once the records are in.
        await connection.execute("SELECT rp_ensure_audit_partitions($1::date, $2)", start.date(), MONTHS + 3)
        audit_deferred = await _defer(connection, ("audit_event",))
    finally:
        await connection.close()

    began = time.perf_counter()
    until = now - timedelta(hours=1)
    months = _months(start, until, AUDIT_PER_DOSSIER * dossiers)
    total = AUDIT_CHAINS * sum(count for _, _, count in months)
    plan = AuditPlan(
        url=url,
        database=name,
        owner=migrate.Roles().owner,
        key_id=keyring.current_id,
        key=keyring.current,
        chains=(),
        months=months,
        persons=dossiers,
        reference=reference.ssins,
        actors=actors(registry),
        seed=dossiers,
    )
    # (a process of its own costs a few seconds to start: worth it for large logs only)
    heads = await write_audit(plan, workers=max(1, min(workers, AUDIT_CHAINS)) if total >= 1_000_000 else 1)
    steps["audit log"] = time.perf_counter() - began
    log(f"seed_scale:   audit log: {steps['audit log']:.1f} s ({total} records)")

    connection = await _connect(url, name)
    try:
        await connection.execute(f"SET ROLE {migrate.Roles().owner}")
        await connection.execute("SET maintenance_work_mem = '512MB'")
        began = time.perf_counter()
        await _restore(connection, ("audit_event",), audit_deferred)
        steps["audit indexes"] = time.perf_counter() - began
        log(f"seed_scale:   audit indexes: {steps['audit indexes']:.1f} s")
        await connection.executemany(
            "UPDATE audit_chain_head SET seq = $2, hash = $3, last_at = $4, legacy_until = 0, updated_at = now() "
            "WHERE chain_id = $1",
            [head for head in heads if head[1] > 0],
        )
        last = max((head[3] for head in heads if head[1] > 0), default=until)
        began = time.perf_counter()
        await connection.execute("RESET ROLE")
        # The tables the pages read, vacuumed (their visibility maps let index-only scans skip the heap, as in a
        # database that has lived); the audit log, whose reads visit its rows anyway, analysed only.
        await connection.execute(f"VACUUM (ANALYZE) {', '.join((*LOADED, 'feed_event'))}")
        await connection.execute("ANALYZE audit_event")
        await connection.execute("CHECKPOINT")
        steps["vacuum, analyze, checkpoint"] = time.perf_counter() - began
        gets = [uuid_of("d", len(reference.vdab) + n) for n in range(len(reference.cm))]
        rng = random.Random(dossiers)
        auditees = [
            filler_ssin(person) if person >= k else reference.ssins[person]
            for person in (rng.randrange(dossiers) for _ in range(50))
        ]
    finally:
        await connection.close()
    return ScaleDatabase(
        name=name,
        dossiers=dossiers,
        audit_records=total,
        feed_events=events,
        built_at=now.isoformat(),
        seconds=0.0,
        version=VERSION,
        schema=head,
        key_id=keyring.current_id,
        page=len(reference.vdab),
        feed_page=feed_page,
        week=week,
        feed_after=[],  # found by build(), built or reused
        feed_depth=depth,
        gets=gets,
        auditees=auditees,
        audit_until=last.isoformat(),
        steps={label: round(seconds, 1) for label, seconds in steps.items()},
    )


def _month_start(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _monday(moment: datetime) -> datetime:
    day = moment.date() - timedelta(days=moment.weekday())
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _months(start: datetime, until: datetime, total: int) -> tuple[tuple[int, int, int], ...]:
    """Per month from ``start`` to ``until``: its first and last microsecond (epoch) and its records per chain
    (``total`` spread evenly over the months and the chains)."""
    chain_total = total // AUDIT_CHAINS
    per_chain = [chain_total // MONTHS + (1 if m < chain_total % MONTHS else 0) for m in range(MONTHS)]
    found = []
    for m in range(MONTHS):
        first, after = _month_start(start, m), _month_start(start, m + 1)
        found.append((_us(first), _us(min(after, until)) - 1, per_chain[m]))
    return tuple(found)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


# --- the audit log ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who a seeded record says called, and what about: everything of it but the person, resource, time and ids,
    with the canonical JSON fragments that do not change from record to record."""

    organisation: str
    organisation_type: str
    user_ssin: str
    roles: tuple[str, ...]
    operation: str
    resource_type: str
    outcome: str
    reason: str
    legal_basis: str | None
    status: int
    middle: str
    """``"operation":…,"organisation":…,"organisationType":…,"outcome":…,`` (canonical order)."""
    tail: str
    """``"resourceType":…,"roles":[…]``."""
    legal_json: str
    reason_json: str


def actors(registry: OrganisationRegistry) -> tuple[Actor, ...]:
    """Ten users per organisation of the registry, each calling the operations its type makes, mostly permitted."""
    operations = {
        OrganisationType.INSURER: (("readDossier", "dossier"), ("queryRequests", "request"), ("readEvents", "dossier")),
        OrganisationType.REGIONAL_SERVICE: (
            ("queryRequests", "request"),
            ("listDecisions", "dossier"),
            ("readEvents", "dossier"),
        ),
        OrganisationType.PREVENTION_SERVICE: (
            ("readDossier", "dossier"),
            ("queryRegistrationForms", "registrationForm"),
        ),
        OrganisationType.INAMI: (("readRequest", "request"), ("listDecisions", "dossier")),
    }
    roles = {
        OrganisationType.INSURER: ("returnToWorkCoordinator",),
        OrganisationType.REGIONAL_SERVICE: ("referenceAdvisor",),
        OrganisationType.PREVENTION_SERVICE: ("occupationalPhysician",),
        OrganisationType.INAMI: ("socialExpert",),
    }
    reasons = {
        OrganisationType.INSURER: "insurerAffiliation",
        OrganisationType.REGIONAL_SERVICE: "regionalRegistration",
        OrganisationType.PREVENTION_SERVICE: "employerAffiliation",
        OrganisationType.INAMI: "inamiMission",
    }
    found = []
    for number, organisation in enumerate(sorted(registry, key=lambda o: o.enterprise_number)):
        kind = organisation.type
        if kind not in operations:
            continue
        for user in range(10):
            user_ssin = make_ssin(date(1950, 1, 1) + timedelta(days=number * 10 + user), 1 + user, bis_month_offset=20)
            for operation, resource_type in operations[kind]:
                for permitted in (True,) * 19 + (False,):
                    legal_basis = basis_of(kind).text if permitted else None
                    reason = reasons[kind] if permitted else "noLink"
                    outcome = "permit" if permitted else "deny"
                    status = 200 if permitted or not operation.startswith("read") else 404
                    found.append(
                        Actor(
                            organisation=organisation.enterprise_number,
                            organisation_type=str(kind),
                            user_ssin=user_ssin,
                            roles=roles[kind],
                            operation=operation,
                            resource_type=resource_type,
                            outcome=outcome,
                            reason=reason,
                            legal_basis=legal_basis,
                            status=status,
                            middle=_members(
                                operation=operation,
                                organisation=organisation.enterprise_number,
                                organisationType=str(kind),
                                outcome=outcome,
                            ),
                            tail=_members(resourceType=resource_type, roles=sorted(roles[kind]))[:-1],
                            legal_json=orjson.dumps(legal_basis).decode(),
                            reason_json=orjson.dumps(reason).decode(),
                        )
                    )
    return tuple(found)


def _members(**values: object) -> str:
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS).decode()[1:-1] + ","


@dataclass(frozen=True)
class AuditPlan:
    url: str
    database: str
    owner: str
    key_id: str
    key: bytes
    chains: tuple[int, ...]
    months: tuple[tuple[int, int, int], ...]
    persons: int
    reference: tuple[str, ...]
    actors: tuple[Actor, ...]
    seed: int


Head = tuple[int, int, bytes, datetime]
"""A chain's head after seeding: chain id, seq, link, time of its last record."""

_COLUMNS = (
    "chain_id", "seq", "occurred_at", "id", "trace_id", "user_ssin", "organisation", "organisation_type", "roles",
    "operation", "resource_type", "resource_id", "person_ssin", "outcome", "reason", "legal_basis", "status",
    "key_id", "mac", "prev_hash", "hash",
)  # fmt: skip


async def write_audit(plan: AuditPlan, *, workers: int) -> list[Head]:
    """The 16 chains, split over ``workers`` processes (each with its own connection, chain by chain within each
    month, month after month); their heads."""
    groups = [tuple(c for c in range(AUDIT_CHAINS) if c % workers == w) for w in range(workers)]
    plans = [replace(plan, chains=group) for group in groups]
    if workers == 1:
        return await _copy_chains(plans[0])
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        done = await asyncio.gather(*(loop.run_in_executor(pool, _write_chains, one) for one in plans))
    return [head for heads in done for head in heads]


def _write_chains(plan: AuditPlan) -> list[Head]:
    return asyncio.run(_copy_chains(plan))


async def _copy_chains(plan: AuditPlan) -> list[Head]:
    connection = await _connect(plan.url, plan.database)
    heads: dict[int, Head] = {chain: (chain, 0, bytes(32), _EPOCH) for chain in plan.chains}
    try:
        await connection.execute(f"SET ROLE {plan.owner}")
        await connection.execute("SET synchronous_commit = off")
        for month, (first_us, last_us, count) in enumerate(plan.months):
            for chain in plan.chains:
                _, seq, previous, _ = heads[chain]
                rows = ChainRecords(plan, chain, month, first_us, last_us, count, seq, previous)
                await connection.copy_records_to_table("audit_event", records=rows, columns=_COLUMNS)
                heads[chain] = rows.head
    finally:
        await connection.close()
    return list(heads.values())


class ChainRecords:
    """The ``count`` records of ``chain`` in ``month``, after seq ``seq`` and link ``previous``, as COPY rows; once
    iterated, :attr:`head` is the chain's new head. The first record's canonical JSON is checked against
    :func:`rp_api.audit_chain.canonical`."""

    def __init__(
        self,
        plan: AuditPlan,
        chain: int,
        month: int,
        first_us: int,
        last_us: int,
        count: int,
        seq: int,
        previous: bytes,
    ) -> None:
        self.plan, self.chain, self.month = plan, chain, month
        self.first_us, self.last_us, self.count = first_us, last_us, count
        self.head: Head = (chain, seq, previous, _EPOCH)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        plan, chain = self.plan, self.chain
        rng = random.Random(plan.seed * 1_000_003 + chain * 1_009 + self.month)
        key_id = plan.key_id
        keyed = hmac.new(plan.key, digestmod=hashlib.sha256)
        key_json = orjson.dumps(key_id).decode()
        persons, reference, actors = plan.persons, plan.reference, plan.actors
        known, count_actors, ssin_of = len(reference), len(plan.actors), FillerSsins(plan.persons)
        step = max(1, (self.last_us - self.first_us) // max(self.count, 1))
        sha256, epoch, micro, uniform = hashlib.sha256, _EPOCH, timedelta(microseconds=1), rng.random
        _, seq, previous, last = self.head
        for n in range(self.count):
            at = epoch + micro * (self.first_us + n * step + int(uniform() * step))
            stamp = at.isoformat(timespec="microseconds")  # what audit_chain.timestamp makes of a UTC time
            person = int(uniform() * persons)
            ssin = reference[person] if person < known else ssin_of(person)
            actor = actors[int(uniform() * count_actors)]
            resource = uuid_of("r" if actor.resource_type == "request" else "d", person)
            bits = f"{rng.getrandbits(128):032x}"
            record_id = f"{bits[:8]}-{bits[8:12]}-{bits[12:16]}-{bits[16:20]}-{bits[20:]}"
            trace = f"{rng.getrandbits(128):032x}"
            first = (
                f'"id":"{record_id}","keyId":{key_json},"legalBasis":{actor.legal_json},"occurredAt":"{stamp}",'
                f'{actor.middle}"personSsin":"{ssin}","reason":{actor.reason_json},"resourceId":"{resource}",'
                f"{actor.tail}"
            )
            second = f'"status":{actor.status},"traceId":"{trace}","userSsin":"{actor.user_ssin}"'
            content = f"{{{first},{second}}}".encode()
            if n == 0:
                self._check(content, record_id, at, trace, ssin, resource, actor, key_id)
            one = keyed.copy()
            one.update(content)
            mac = one.digest()
            seq += 1
            link = sha256(previous + f'{{"chainId":{chain},{first},"seq":{seq},{second}}}'.encode() + mac).digest()
            yield (
                chain, seq, at, record_id, trace, actor.user_ssin, actor.organisation, actor.organisation_type,
                list(actor.roles), actor.operation, actor.resource_type, resource, ssin, actor.outcome, actor.reason,
                actor.legal_basis, actor.status, key_id, mac, previous, link,
            )  # fmt: skip
            previous, last = link, at
        self.head = (chain, seq, previous, last)

    @staticmethod
    def _check(
        content: bytes, record_id: str, at: datetime, trace: str, ssin: str, resource: str, actor: Actor, key_id: str
    ) -> None:
        import uuid

        record = AuditRecord(
            trace_id=trace,
            user_ssin=actor.user_ssin,
            organisation=actor.organisation,
            organisation_type=actor.organisation_type,
            roles=actor.roles,
            operation=actor.operation,
            resource_type=actor.resource_type,
            resource_id=resource,
            person_ssin=ssin,
            outcome=actor.outcome,
            reason=actor.reason,
            legal_basis=actor.legal_basis,
            status=actor.status,
            id=uuid.UUID(record_id),
            occurred_at=at,
        )
        expected = canonical(record, occurred_at=timestamp(at), key_id=key_id).content
        if content != expected:
            raise AssertionError(f"seed_scale: canonical JSON differs:\n{content!r}\n{expected!r}")


# --- the command ------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the scale server's directory")
    parser.add_argument("--rebuild", action="store_true", help="build again even when the database matches")
    parser.add_argument("--verify", action="store_true", help="verify the audit log afterwards (audit verify)")
    parser.add_argument("--workers", type=int, default=2, help="processes computing the audit chains")
    parser.add_argument("--output", type=Path, default=None, help="write what was built as JSON here")
    args = parser.parse_args(argv)
    if args.dossiers < 8:
        parser.error("--dossiers is at least 8")
    embedded.exit_on_stop_signals()  # a stop signal stops the server this process started, too
    running = server(args.root)
    built = build(
        running, args.dossiers, root=args.root, rebuild=args.rebuild, workers=args.workers, verify=args.verify
    )
    summary = {**built.stored(), "reused": built.reused}
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(summary, indent=2))
    print(
        json.dumps({k: summary[k] for k in ("name", "dossiers", "audit_records", "feed_events", "seconds", "reused")})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
