"""``POST /rp/v1/auditEvents/query``: who accessed a person's data (INAMI's auditors), what an organisation's users
accessed (that organisation's auditors)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from rp_api.authz.guard import CurrentPrincipal
from rp_api.db import DbSession
from rp_api.responses import ModelResponse
from rp_api.routers import api_router, problem_response
from rp_api.schemas.audit import AuditEventPage, AuditQuery
from rp_api.services import audit_queries
from rp_api.tracing import trace_id_of

router = api_router(tags=["Audit"], responses={403: problem_response("Only auditors query the audit log.")})


@router.post(
    "/auditEvents/query",
    operation_id="queryAuditEvents",
    summary="Who accessed a person's data, or what the caller's users accessed, in a period (SSINs in the body)",
    description="For auditors only (the `auditor` role of any organisation type; anyone else 403 "
    "`missingPermission`). INAMI's auditor naming a person (`ssin`) gets every access to that person's data in the "
    "period, by any organisation, permits and denials, to answer the person's right of access; any organisation's "
    "auditor (INAMI's too, without a person) gets what its own users accessed, optionally narrowed to one person "
    "(`ssin`) or one user (`userSsin`). `from` and `to` are days, both included. Keyset pages (`pageSize`, `page`: "
    "the previous page's `next`). The query is itself recorded in the audit log, once for each person it names or "
    "shows. The SSINs travel in the body, never in a URL. A person whose SSIN the National Register replaced is "
    "recorded under each SSIN they had: INAMI's query naming any of them covers them all (each record names the SSIN "
    "it was made under); another organisation's auditor gets the SSIN it names only.",
    response_model=AuditEventPage,
)
async def query_audit_events(
    body: AuditQuery, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    page = await audit_queries.query(session, principal, trace_id_of(request.scope) or "", body)
    return ModelResponse(page)
