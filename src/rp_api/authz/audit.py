"""Audit records: who (user, organisation, role), what (operation, resource), whom (SSIN), when, outcome, reason,
legal basis, trace id. One record per person per call, permits and denials alike.

A request collects its records in its session (:func:`record`); the unit of work (:mod:`rp_api.db`) writes them
in the same transaction as the data they reveal, just before it commits, and, when the request fails, writes them
on their own after the rollback, so a denial is never lost. The chain hash makes any later change detectable.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.principal import Principal

GENESIS_HASH = bytes(32)
_PENDING = "rp.audit.pending"


@dataclass(frozen=True)
class AuditRecord:
    trace_id: str
    user_ssin: str
    organisation: str
    organisation_type: str
    roles: tuple[str, ...]
    operation: str
    resource_type: str
    resource_id: str | None
    person_ssin: str
    outcome: str
    reason: str
    legal_basis: str | None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def of(
        cls,
        principal: Principal,
        *,
        trace_id: str,
        operation: str,
        resource_type: str,
        resource_id: str | None,
        person_ssin: str,
        allowed: bool,
        reason: str,
        legal_basis: str | None,
    ) -> AuditRecord:
        return cls(
            trace_id=trace_id,
            user_ssin=principal.user_ssin,
            organisation=principal.enterprise_number,
            organisation_type=str(principal.organisation_type),
            roles=tuple(sorted(str(role) for role in principal.roles)),
            operation=operation,
            resource_type=resource_type,
            resource_id=resource_id,
            person_ssin=person_ssin,
            outcome="permit" if allowed else "deny",
            reason=reason,
            legal_basis=legal_basis,
        )


def chain_hash(previous: bytes, record: AuditRecord, *, chain_id: int, seq: int) -> bytes:
    """SHA-256 of the previous hash and the record's canonical JSON (compact, sorted keys, UTF-8, UTC time to the
    microsecond)."""
    canonical = {
        "chainId": chain_id,
        "seq": seq,
        "id": str(record.id),
        "occurredAt": record.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "traceId": record.trace_id,
        "userSsin": record.user_ssin,
        "organisation": record.organisation,
        "organisationType": record.organisation_type,
        "roles": sorted(record.roles),
        "operation": record.operation,
        "resourceType": record.resource_type,
        "resourceId": record.resource_id,
        "personSsin": record.person_ssin,
        "outcome": record.outcome,
        "reason": record.reason,
        "legalBasis": record.legal_basis,
    }
    return hashlib.sha256(previous + orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).digest()


def record(session: AsyncSession, *records: AuditRecord) -> None:
    """Queue audit records on the request's unit of work (written before commit, or after a rollback)."""
    session.info.setdefault(_PENDING, []).extend(records)


def take_pending(session: AsyncSession) -> list[AuditRecord]:
    pending: list[AuditRecord] = session.info.pop(_PENDING, [])
    return pending
