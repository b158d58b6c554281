"""Audit queries (journalisation des accès).

INAMI's auditor asks who accessed a person's data in a period, to answer the person's right of access; any
organisation's auditor (INAMI's included) asks what its own users did. The query is itself a call about every
person it names or returns, and is audited as such: a denial naming a person too.

A person whose SSIN the National Register replaced is recorded under each SSIN they had when a call named them (the
platform follows the change: :mod:`rp_api.services.identity`). INAMI's query naming a person covers every SSIN of
the person the platform has followed (the SSIN named, those it replaced and those that replaced it, along chains):
the person's report is whole whichever of their SSINs is named. Another organisation's auditor gets the records of
the SSIN it names only: widening its query would tell an organisation that may not be linked to the person under
the new SSIN which SSIN replaced which (the side-doors rule of :func:`rp_api.domain.policy.decide`); its own users'
accesses under the other SSINs are found by naming them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import cursors
from rp_api.authz.audit import AuditRecord, record
from rp_api.authz.principal import Principal
from rp_api.domain.actors import OrganisationType
from rp_api.domain.policy import DELIBERATION, AuditScope, Caller, Reason, audit_scope
from rp_api.problems import MissingPermission
from rp_api.repositories import audit as repository
from rp_api.schemas.audit import AuditEventOut, AuditEventPage, AuditQuery
from rp_api.services import identity

OPERATION = "queryAuditEvents"
_BASIS = {
    AuditScope.EVERY_ORGANISATION: f"{DELIBERATION}: the person's right of access to the log of who accessed "
    "their data",
    AuditScope.OWN_ORGANISATION: f"{DELIBERATION}: the organisation's control of its own users' accesses",
}


def _audit(
    session: AsyncSession, principal: Principal, trace_id: str, persons: list[str], scope: AuditScope | None
) -> None:
    record(
        session,
        *(
            AuditRecord.of(
                principal,
                trace_id=trace_id,
                operation=OPERATION,
                resource_type="auditLog",
                resource_id=None,
                person_ssin=person,
                allowed=scope is not None,
                reason=str(scope) if scope is not None else Reason.ROLE_NOT_ALLOWED,
                legal_basis=_BASIS[scope] if scope is not None else None,
            )
            for person in persons
        ),
    )


async def _person_ssins(session: AsyncSession, principal: Principal, ssin: str) -> list[str]:
    """The SSINs a query naming ``ssin`` covers: every SSIN of the person for INAMI (always linked to the person,
    whatever their SSIN), the one named for any other organisation."""
    if principal.organisation_type is OrganisationType.INAMI:
        return await identity.person_ssins(session, ssin)
    return [ssin]


async def query(session: AsyncSession, principal: Principal, trace_id: str, body: AuditQuery) -> AuditEventPage:
    scope = audit_scope(Caller.of(principal), person_named=body.ssin is not None)
    if scope is None:
        _audit(session, principal, trace_id, [body.ssin] if body.ssin else [], None)
        raise MissingPermission("Only auditors query the audit log")
    rows = await repository.events(
        session,
        person_ssins=await _person_ssins(session, principal, body.ssin) if body.ssin else None,
        organisation=principal.enterprise_number if scope is AuditScope.OWN_ORGANISATION else None,
        user_ssin=body.user_ssin,
        since=datetime.combine(body.from_, time.min, UTC),
        until=datetime.combine(body.to + timedelta(days=1), time.min, UTC),
        after=cursors.decode(body.page, datetime.fromisoformat, int, int, where="body", name="page")
        if body.page
        else None,
        limit=body.page_size + 1,
    )
    more = len(rows) > body.page_size
    rows = rows[: body.page_size]
    # The person named, or else every person the page shows (once each, in order of appearance).
    _audit(
        session,
        principal,
        trace_id,
        [body.ssin] if body.ssin else list(dict.fromkeys(r.person_ssin for r in rows)),
        scope,
    )
    items = [AuditEventOut.model_validate(row, from_attributes=True) for row in rows]
    return AuditEventPage(
        items=items,
        self_="/rp/v1/auditEvents/query",
        next=cursors.encode(rows[-1].occurred_at, rows[-1].chain_id, rows[-1].seq) if more and rows else None,
    )
