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
    status: int | None = None
    """The HTTP status of the call's answer, known once the call is over."""
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


@dataclass(frozen=True)
class ChainFragments:
    """A record's canonical JSON, cut around the three values the database fills in when it appends the record:
    ``{"chainId":`` chain_id ``after_chain`` time ``after_time`` seq ``after_seq``."""

    after_chain: str
    after_time: str
    after_seq: str

    def canonical(self, *, chain_id: int, occurred_at: str, seq: int) -> bytes:
        return f'{{"chainId":{chain_id}{self.after_chain}{occurred_at}{self.after_time}{seq}{self.after_seq}'.encode()


def _members(values: dict[str, object]) -> str:
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS).decode()[1:-1]


def fragments(record: AuditRecord) -> ChainFragments:
    """The canonical JSON is compact, with sorted keys: chainId, id, legalBasis, occurredAt, operation, organisation,
    organisationType, outcome, personSsin, reason, resourceId, resourceType, roles, seq, status (when known), traceId,
    userSsin."""
    before_time = _members({"id": str(record.id), "legalBasis": record.legal_basis})
    before_seq = _members(
        {
            "operation": record.operation,
            "organisation": record.organisation,
            "organisationType": record.organisation_type,
            "outcome": record.outcome,
            "personSsin": record.person_ssin,
            "reason": record.reason,
            "resourceId": record.resource_id,
            "resourceType": record.resource_type,
            "roles": sorted(record.roles),
        }
    )
    tail: dict[str, object] = {"traceId": record.trace_id, "userSsin": record.user_ssin}
    if record.status is not None:  # records written before the status was recorded have none
        tail["status"] = record.status
    after_seq = _members(tail)
    return ChainFragments(f',{before_time},"occurredAt":"', f'",{before_seq},"seq":', f",{after_seq}}}")


def timestamp(moment: datetime) -> str:
    """A record's time in its canonical JSON: UTC, to the microsecond."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def chain_hash(previous: bytes, record: AuditRecord, *, chain_id: int, seq: int) -> bytes:
    """SHA-256 of the previous hash and the record's canonical JSON (compact, sorted keys, UTF-8, UTC time to the
    microsecond). The database computes the same when it appends (``rp_audit_append``)."""
    canonical = fragments(record).canonical(chain_id=chain_id, occurred_at=timestamp(record.occurred_at), seq=seq)
    return hashlib.sha256(previous + canonical).digest()


def record(session: AsyncSession, *records: AuditRecord) -> None:
    """Queue audit records on the request's unit of work (written before commit, or after a rollback)."""
    session.info.setdefault(_PENDING, []).extend(records)


def take_pending(session: AsyncSession) -> list[AuditRecord]:
    pending: list[AuditRecord] = session.info.pop(_PENDING, [])
    return pending
