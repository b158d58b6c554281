"""An audit record (pure data): who (user, organisation, role), what (operation, resource), whom (SSIN), when,
outcome, reason, legal basis, trace id, and the HTTP status the caller got.

How records are queued and settled by a call is :mod:`rp_api.authz.audit`; how they are chained and keyed is
:mod:`rp_api.audit_chain`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rp_api.domain.principal import Principal


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
    """When the record was made. The log keeps the time the record was appended (the database checks it against
    its own clock), which is what a stored record carries here when read back."""

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
