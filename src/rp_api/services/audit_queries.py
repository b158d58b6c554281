"""Audit queries: INAMI's auditor asks who accessed a person's data in a period (to answer the person's access
request). The query is itself a call about the person, and is audited."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.audit import AuditRecord, record
from rp_api.authz.principal import Principal
from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.policy import DELIBERATION
from rp_api.problems import INVALID_INPUT, BadRequest, InputIssue, MissingPermission
from rp_api.repositories import audit as repository
from rp_api.schemas.audit import AuditEventOut, AuditEventPage, AuditQuery


def _cursor(row: object) -> str:
    raw = json.dumps([row.occurred_at.isoformat(), row.chain_id, row.seq])  # type: ignore[attr-defined]
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(cursor: str) -> tuple[datetime, int, int]:
    try:
        at, chain_id, seq = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), int(chain_id), int(seq)
    except (ValueError, TypeError):
        raise BadRequest([InputIssue(INVALID_INPUT, "Invalid page cursor", None, "body", "page")]) from None


async def query(session: AsyncSession, principal: Principal, trace_id: str, body: AuditQuery) -> AuditEventPage:
    if principal.organisation_type is not OrganisationType.INAMI or Role.AUDITOR not in principal.roles:
        raise MissingPermission("Only INAMI's auditors query the audit log")
    rows = await repository.of_person(
        session,
        body.ssin,
        since=datetime.combine(body.from_, time.min, UTC),
        until=datetime.combine(body.to + timedelta(days=1), time.min, UTC),
        after=_after(body.page) if body.page else None,
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
        items=items, self_="/rp/v1/auditEvents/query", next=_cursor(rows[-1]) if more and rows else None
    )
