"""Audit queries: INAMI's auditor asks who accessed a person's data in a period (to answer the person's access
request). The query is itself a call about the person, and is audited."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import cursors
from rp_api.authz.audit import AuditRecord, record
from rp_api.authz.principal import Principal
from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.policy import DELIBERATION
from rp_api.problems import MissingPermission
from rp_api.repositories import audit as repository
from rp_api.schemas.audit import AuditEventOut, AuditEventPage, AuditQuery


def _after(page: str) -> tuple[datetime, int, int]:
    at, chain_id, seq = cursors.decode(page, datetime.fromisoformat, int, int, where="body", name="page")
    return at, chain_id, seq


async def query(session: AsyncSession, principal: Principal, trace_id: str, body: AuditQuery) -> AuditEventPage:
    if principal.organisation_type is not OrganisationType.INAMI or Role.AUDITOR not in principal.roles:
        raise MissingPermission("Only INAMI's auditors query the audit log")
    rows = await repository.of_person(
        session,
        body.ssin,
        since=datetime.combine(body.from_, time.min, UTC),
        until=datetime.combine(body.to + timedelta(days=1), time.min, UTC),
        after=cursors.decode(body.page, datetime.fromisoformat, int, int, where="body", name="page")
        if body.page
        else None,
        limit=body.page_size + 1,
    )
    more = len(rows) > body.page_size
    rows = rows[: body.page_size]
    record(
        session,
        AuditRecord.of(
            principal,
            trace_id=trace_id,
            operation="queryAuditEvents",
            resource_type="auditLog",
            resource_id=None,
            person_ssin=body.ssin,
            allowed=True,
            reason="inamiMission",
            legal_basis=f"{DELIBERATION}: the person's right of access to the log of who accessed their data",
        ),
    )
    items = [
        AuditEventOut(
            id=row.id,
            occurred_at=row.occurred_at,
            user_ssin=row.user_ssin,
            organisation=row.organisation,
            organisation_type=row.organisation_type,
            roles=list(row.roles),
            operation=row.operation,
            resource_type=row.resource_type,
            resource_id=row.resource_id,
            outcome=row.outcome,
            reason=row.reason,
            legal_basis=row.legal_basis,
            trace_id=row.trace_id,
        )
        for row in rows
    ]
    return AuditEventPage(
        items=items,
        self_="/rp/v1/auditEvents/query",
        next=cursors.encode(rows[-1].occurred_at, rows[-1].chain_id, rows[-1].seq) if more and rows else None,
    )
