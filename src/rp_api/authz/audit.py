"""Audit records: who (user, organisation, role), what (operation, resource), whom (SSIN), when, outcome, reason,
legal basis, trace id. One record per person per call, permits and denials alike.

A request collects its records in its session (:func:`record`) as the person guard decides; they are provisional
until the call's outcome is known. The unit of work (:mod:`rp_api.db`) settles them (:func:`settled`) with the HTTP
status the caller got and writes them once: in the same transaction as the data they reveal, just before it
commits, or, when the call failed, on their own after the rollback, every permit turned into a denial that says
which later check refused (:func:`refusal_of`) — so the log never says that something was revealed or changed
when the caller got an error. The keyed chain (:mod:`rp_api.audit_chain`) makes any later change detectable.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace

from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException

from rp_api import problems
from rp_api.domain.audit import AuditRecord
from rp_api.domain.policy import Refusal

_PENDING = "rp.audit.pending"

__all__ = ["AuditRecord", "amend", "record", "refusal_of", "settled", "take_pending"]


def record(session: AsyncSession, *records: AuditRecord) -> None:
    """Queue audit records on the request's unit of work (written before commit, or after a rollback)."""
    session.info.setdefault(_PENDING, []).extend(records)


def amend(
    session: AsyncSession, record_id: uuid.UUID, *, resource_id: str | None = None, person_ssin: str | None = None
) -> None:
    """Name the resource on a queued record once it exists (opening a dossier decides before it creates it), or
    the SSIN a refusal names once the guard knows which the caller may read (:mod:`rp_api.authz.person_guard`)."""
    pending: list[AuditRecord] = session.info.get(_PENDING, [])
    for index, entry in enumerate(pending):
        if entry.id == record_id:
            if resource_id is not None:
                entry = replace(entry, resource_id=resource_id)
            if person_ssin is not None:
                entry = replace(entry, person_ssin=person_ssin)
            pending[index] = entry


def take_pending(session: AsyncSession) -> list[AuditRecord]:
    pending: list[AuditRecord] = session.info.pop(_PENDING, [])
    return pending


def settled(records: Sequence[AuditRecord], *, status: int, refusal: str | None) -> list[AuditRecord]:
    """The records as the call ended: each with the HTTP status the caller got; when the call was refused after its
    access decision (``refusal``), a permit becomes a denial for that reason (nothing was revealed or changed), and
    loses its legal basis. Denials keep their own reason."""
    out = []
    for entry in records:
        if refusal is not None and entry.outcome == "permit":
            entry = replace(entry, outcome="deny", reason=refusal, legal_basis=None)
        out.append(replace(entry, status=status))
    return out


_REFUSALS: tuple[tuple[type[problems.Problem], Refusal], ...] = (
    (problems.MissingPermission, Refusal.ROLE_NOT_ALLOWED),
    (problems.PreconditionFailed, Refusal.PRECONDITION_FAILED),
    (problems.PreconditionRequired, Refusal.PRECONDITION_FAILED),
    (problems.IdempotencyKeyReused, Refusal.INVALID_INPUT),
    (problems.RpProblem, Refusal.WORKFLOW_STATE),
    (problems.BadRequest, Refusal.INVALID_INPUT),
    (problems.ResourceNotFound, Refusal.NOT_FOUND),
    (problems.ServiceUnavailable, Refusal.UPSTREAM_UNAVAILABLE),
    (problems.BadGateway, Refusal.UPSTREAM_UNAVAILABLE),
)


def refusal_of(exc: BaseException) -> tuple[int, str]:
    """The HTTP status a failed call answers with, and the reason its records give for refusing."""
    if isinstance(exc, problems.Problem):
        reason = next((refusal for kind, refusal in _REFUSALS if isinstance(exc, kind)), Refusal.ERROR)
        return exc.status, str(reason)
    if isinstance(exc, RequestValidationError):
        return 400, str(Refusal.INVALID_INPUT)
    if isinstance(exc, HTTPException):
        return exc.status_code, str(Refusal.INVALID_INPUT if exc.status_code < 500 else Refusal.ERROR)
    return 500, str(Refusal.ERROR)
