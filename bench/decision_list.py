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

import asyncio
import sys
from pathlib import Path

from list_pages import list_arguments, report_list, run_list
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from rp_api import cursors
from rp_api.authz.person_guard import PersonGuard
from rp_api.domain.actors import Role
from rp_api.schemas.request import DecisionList
from rp_api.services.decisions import decision_list

AUDIT_TARGET = 2.5
DEPTH_TARGET = 1.5

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


async def run(rows: int, rounds: int) -> dict[str, float]:
    async def seed(connection: AsyncConnection, organisation: str) -> str:
        await connection.execute(text(SEED), {"rows": rows, "org": organisation})
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
        return cursors.seal(deep_row.decided_at, deep_row.id, scope=cursors.scope("listDecisions", organisation))

    async def read(session: AsyncSession, guard: PersonGuard, audited: bool, cursor: str | None) -> DecisionList:
        return await decision_list(
            session,
            guard,
            week="2026-W47",
            decided_from=None,
            decided_to=None,
            page=cursor,
            page_size=100,
            self_link="/rp/v1/decisions",
            audited=audited,
        )

    return await run_list(rows, rounds, role=Role.LIST_MANAGER, seed=seed, read=read)


def main() -> int:
    parser = list_arguments(__doc__, rows=100_000, output=Path(__file__).parent / "results" / "decision_list.json")
    args = parser.parse_args()
    results = asyncio.run(run(args.rows, args.rounds))
    return report_list(
        results,
        lines=f"{args.rows} decisions",
        output=args.output,
        audit_target=AUDIT_TARGET,
        depth_target=DEPTH_TARGET,
    )


if __name__ == "__main__":
    sys.exit(main())
