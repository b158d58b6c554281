"""Work-list pages: the cost of re-checking every line's person and of its audit records.

    .venv/bin/python bench/work_list.py [--rows 10000] [--rounds 15]

Starts the embedded PostgreSQL (temporary directory), migrates, and loads ``--rows`` training requests on as many
dossiers, each addressed to one regional service (bulk SQL). The persons' links are warm (this process's memory
level, as after a first read; the authentic sources are stand-ins that answer at once). Each measure is the median
time of a page of 100 (``POST /requests/query`` without filters) read through the real service code in its own
transaction, committed:
- page without either (baseline): the same lines, views and names, no re-check and no audit;
- page with both: each line's person re-checked through the person guard with the caller's current links, and one
  audit record per person (keyed chain, in the same transaction);
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
from rp_api.schemas.work_list import RequestWorkList, RequestWorkListQuery
from rp_api.services.work_lists import query_requests

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
                         training_project, trainings, total_cost, insurer_contacts, created_at, updated_at)
    SELECT request_id, dossier_id, 'training', 'awaitingInsurerValidation', 1, :org, 'regionalService',
           'referenceAdvisor', 'Logistics',
           '[{"id": "t1", "provider": "Syntra", "title": "Forklift operator", "startDate": "2027-01-04",
              "endDate": "2027-03-26", "plannedHours": 120, "cost": "1450.00"}]'::jsonb,
           1450, '{}'::jsonb, now(),
           TIMESTAMPTZ '2026-11-16 08:00:00+00' + i * INTERVAL '1 second'
    FROM numbered WHERE EXISTS (SELECT 1 FROM dossiers WHERE dossiers.id = numbered.dossier_id)
    RETURNING id, dossier_id
),
addressed AS (
    INSERT INTO addressee (resource_id, enterprise_number, resource_type, dossier_id)
    SELECT id, :org, 'request', dossier_id FROM requests RETURNING 1
)
SELECT count(*) FROM addressed
"""


async def run(rows: int, rounds: int) -> dict[str, float]:
    async def seed(connection: AsyncConnection, organisation: str) -> str:
        await connection.execute(text(SEED), {"rows": rows, "org": organisation})
        await connection.execute(text("ANALYZE"))
        deep_row = (
            await connection.execute(
                text("SELECT updated_at, id FROM request ORDER BY updated_at, id OFFSET :offset LIMIT 1"),
                {"offset": max(rows - 101, 0)},
            )
        ).one()
        return cursors.seal(deep_row.updated_at, deep_row.id, scope=cursors.scope("queryRequests", organisation))

    async def read(session: AsyncSession, guard: PersonGuard, audited: bool, cursor: str | None) -> RequestWorkList:
        return await query_requests(
            session,
            guard,
            RequestWorkListQuery(page_size=100, page=cursor),
            "/rp/v1/requests/query",
            audited=audited,
        )

    def write(listed: RequestWorkList) -> object:  # the answer is written, as the endpoint does
        return listed.model_dump_json(by_alias=True, exclude_unset=True)

    return await run_list(rows, rounds, role=Role.REFERENCE_ADVISOR, seed=seed, read=read, write=write)


def main() -> int:
    parser = list_arguments(__doc__, rows=10_000, output=Path(__file__).parent / "results" / "work_list.json")
    args = parser.parse_args()
    if args.rows < 200:
        parser.error("--rows must be at least 200 (two pages of 100)")
    results = asyncio.run(run(args.rows, args.rounds))
    return report_list(
        results,
        lines=f"{args.rows} requests",
        output=args.output,
        audit_target=AUDIT_TARGET,
        depth_target=DEPTH_TARGET,
    )


if __name__ == "__main__":
    sys.exit(main())
