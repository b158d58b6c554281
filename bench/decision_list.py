"""Decision-list pages: the cost of re-checking every line's person and of its audit records, and the cost of depth.

    .venv/bin/python bench/decision_list.py [--rows 100000] [--rounds 15]

Starts the embedded PostgreSQL (temporary directory), migrates, and loads ``--rows`` decisions on as many
dossiers and requests, all of one regional service (bulk SQL). The persons' links are warm (this process's memory
level, as after a first read; the authentic sources are stand-ins that answer at once). Each measure is the median
time of a page of 100 read through the real service code in its own transaction, committed:
- page without either (baseline): the first page, no re-check and no audit;
- page with both: the first page, each line's person re-checked through the person guard with the caller's
  current links, and one audit record per person (keyed chain, in the same transaction);
- deep page with both: the page after row ``rows - 100`` (keyset cursor).
Targets: with both ≤ 2.5 × without; deep ≤ 1.5 × first (both with re-check and audit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from rp_api import cursors, embedded, migrate
from rp_api.audit_chain import Keyring
from rp_api.authz.audit import settled, take_pending
from rp_api.authz.links import LinkResolver
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonGuard
from rp_api.clients.job_seeker import Registration
from rp_api.clients.national_register import RegisteredPerson
from rp_api.domain.actors import Role
from rp_api.domain.principal import IssuerName, Principal
from rp_api.repositories import audit as audit_repository
from rp_api.services.decisions import decision_list
from rp_api.settings import as_asyncpg_url

SEED = """
WITH numbered AS (
    SELECT i, gen_random_uuid() AS dossier_id, gen_random_uuid() AS request_id FROM generate_series(1, :rows) i
),
dossiers AS (
    INSERT INTO dossier (id, ssin, status, version, created_at, updated_at)
    SELECT dossier_id, lpad(i::text, 11, '0'), 'active', 1, now(), now() FROM numbered RETURNING id
),
requests AS (
    INSERT INTO request (id, dossier_id, type, status, version, requester_organisation, requester_type, requester_role,
                         trainings, total_cost, insurer_contacts, created_at, updated_at)
    SELECT request_id, dossier_id, 'training', 'approved', 1, :org, 'regionalService', 'referenceAdvisor',
           '[]'::jsonb, 0, '{}'::jsonb, now(), now()
    FROM numbered WHERE EXISTS (SELECT 1 FROM dossiers WHERE dossiers.id = numbered.dossier_id)
    RETURNING id, dossier_id
),
parties AS (
    INSERT INTO addressee (resource_id, enterprise_number, resource_type, dossier_id)
    SELECT id, :org, 'request', dossier_id FROM requests RETURNING 1
)
SELECT count(*) FROM parties
"""
DECISIONS = """
INSERT INTO decision (id, request_id, round_id, week, outcome, approved_amount, period_start, period_end,
                      motivation, decided_at)
SELECT gen_random_uuid(), r.id, :round, '2026-W47', 'approved', 100, DATE '2027-01-01', DATE '2027-03-01', 'bench',
       TIMESTAMPTZ '2026-11-16 08:00:00+00' + (row_number() OVER (ORDER BY r.id)) * INTERVAL '1 second'
FROM request r
"""


class _Register:
    async def person(self, *, ssin: str, trace_id: str | None, legal_context: str = "") -> RegisteredPerson:
        return RegisteredPerson(ssin=ssin, given_name="An", family_name="Peeters", birth_date=date(1980, 1, 1))


class _JobSeeker:
    def __init__(self, service: str) -> None:
        self.service = service

    async def registrations(self, *, ssin: str, trace_id: str | None, legal_context: str = "") -> list[Registration]:
        return [Registration(regional_service=self.service, registration_date=date(2026, 1, 5))]


class _Sources:
    """Stand-ins for the two sources a regional service's access decision needs, answering at once."""

    def __init__(self, service: str) -> None:
        self.national_register = _Register()
        self.job_seeker = _JobSeeker(service)


async def run(rows: int, rounds: int) -> dict[str, float]:
    server = embedded.start_embedded(Path(tempfile.mkdtemp(prefix="rp-bench-")) / "pgdata")
    url = as_asyncpg_url(server.url)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_async_engine(url)
    registry = OrganisationRegistry.load()
    vdab = registry.find("VDAB")
    assert vdab is not None
    principal = Principal(
        organisation_type=vdab.type,
        enterprise_number=vdab.enterprise_number,
        organisation_name=vdab.name,
        oa_number=None,
        user_ssin="75050575724",
        roles=frozenset({Role.LIST_MANAGER}),
        issuer=IssuerName.UMAN_BCSS,
        token_id="bench-token",  # noqa: S106 - a token's id, not a secret
        expires_at=datetime.now(UTC),
    )
    async with engine.begin() as connection:
        await connection.execute(text(SEED), {"rows": rows, "org": vdab.enterprise_number})
        round_id = await connection.scalar(
            text(
                "INSERT INTO decision_round (id, week, recorded_by) "
                "VALUES (gen_random_uuid(), '2026-W47', :org) RETURNING id"
            ),
            {"org": "0000000000"},
        )
        await connection.execute(text(DECISIONS), {"round": round_id})
        await connection.execute(text("ANALYZE"))
        deep_row = (
            await connection.execute(
                text("SELECT decided_at, id FROM decision ORDER BY decided_at, id OFFSET :offset LIMIT 1"),
                {"offset": rows - 101},
            )
        ).one()
    deep_cursor = cursors.seal(
        deep_row.decided_at, deep_row.id, scope=cursors.scope("listDecisions", vdab.enterprise_number)
    )
    keyring = Keyring.parse(Keyring.new_line("bench"))  # the audit MAC key (the service reads RP_AUDIT_KEY_FILE)
    sources: Any = _Sources(vdab.enterprise_number)
    resolver = LinkResolver(sources, async_sessionmaker(engine), ttl_s=86_400, memory_entries=rows * 4)

    async def page(*, audited: bool, cursor: str | None) -> float:
        started = time.perf_counter()
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            listed = await decision_list(
                session,
                PersonGuard(principal, session, resolver, "bench-trace"),
                week="2026-W47",
                decided_from=None,
                decided_to=None,
                page=cursor,
                page_size=100,
                self_link="/rp/v1/decisions",
                audited=audited,
            )
            await audit_repository.append(
                session, settled(take_pending(session), status=200, refusal=None), keyring=keyring
            )
        assert len(listed.items) == 100
        return time.perf_counter() - started

    measures = {
        "without either": (False, None),
        "re-check + audit": (True, None),
        "deep, both": (True, deep_cursor),
    }
    samples: dict[str, list[float]] = {name: [] for name in measures}
    for audited, cursor in measures.values():  # warm-up: the links of both pages come into memory
        await page(audited=audited, cursor=cursor)
    for _ in range(rounds):
        for name, (audited, cursor) in measures.items():
            samples[name].append(await page(audited=audited, cursor=cursor))
    await engine.dispose()
    server.stop()
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "decision_list.json")
    args = parser.parse_args()
    results = asyncio.run(run(args.rows, args.rounds))
    audit_ratio = results["re-check + audit"] / results["without either"]
    depth_ratio = results["deep, both"] / results["re-check + audit"]
    print(f"machine: {platform.machine()}, CPython {platform.python_version()}, {args.rows} decisions, pages of 100")
    for name, seconds in results.items():
        print(f"{name:<18} {seconds * 1000:8.2f} ms")
    print(f"re-check + audit cost: {audit_ratio:.2f} × (target ≤ 2.5)   depth cost: {depth_ratio:.2f} × (target ≤ 1.5)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "ms": {k: round(v * 1000, 3) for k, v in results.items()},
                "auditRatio": audit_ratio,
                "depthRatio": depth_ratio,
            },
            indent=2,
        )
    )
    return 0 if audit_ratio <= 2.5 and depth_ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
