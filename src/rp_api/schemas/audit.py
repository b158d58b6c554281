"""Audit queries: who accessed a person's data (a person's right of access)."""

from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field, model_validator

from rp_api.identifiers import IsoDate, IsoDateTime, Ssin
from rp_api.schemas.base import ApiModel


class AuditQuery(ApiModel):
    """The period is required; ``ssin`` narrows to one person and ``userSsin`` to one of the caller's users.

    INAMI's auditor naming a person sees every organisation's accesses to that person (the person's right of
    access); otherwise an auditor sees the accesses of its own organisation's users only."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"ssin": "85073003328", "from": "2026-01-01", "to": "2026-12-31", "pageSize": 100},
                {"userSsin": "75050575724", "from": "2026-11-01", "to": "2026-11-30"},
            ]
        }
    )

    ssin: Ssin | None = None
    user_ssin: Ssin | None = None
    from_: IsoDate = Field(alias="from")
    to: IsoDate
    page_size: int = Field(default=100, ge=1, le=1000)
    page: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> AuditQuery:
        if self.to < self.from_:
            raise ValueError("to is before from")
        return self


class AuditEventOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "occurredAt": "2026-11-22T09:00:00Z",
                    "userSsin": "75050575724",
                    "personSsin": "85073003328",
                    "organisation": "0411159046",
                    "organisationType": "insurer",
                    "roles": ["medicalAdvisor"],
                    "operation": "getDossier",
                    "resourceType": "dossier",
                    "resourceId": "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a",
                    "outcome": "permit",
                    "reason": "insurerAffiliation",
                    "legalBasis": "CSI/CSSS 26/060",
                    "status": 200,
                    "traceId": "9a0f8c1e-4d7b-4a4e-9a57-3c1d2f1e0b11",
                }
            ]
        }
    )

    id: uuid.UUID
    occurred_at: IsoDateTime
    user_ssin: str
    person_ssin: str
    organisation: str
    organisation_type: str
    roles: list[str]
    operation: str
    resource_type: str
    resource_id: str | None = None
    outcome: str
    reason: str
    """For a denial: which check refused (noLink, deceased, roleNotAllowed, auditOnlyRole, workflowState,
    preconditionFailed, invalidInput, notFound, upstreamUnavailable, sourceUnavailable…)."""
    legal_basis: str | None = None
    status: int | None = Field(default=None, description="The HTTP status the caller got (absent on older records).")
    trace_id: str


class AuditEventPage(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "self": "/rp/v1/auditEvents/query", "next": None}]}
    )

    items: list[AuditEventOut]
    self_: str = Field(alias="self")
    next: str | None = None
