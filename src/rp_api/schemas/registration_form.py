"""Registration form (formulaire d'inscription, AMF) documents. Content follows point 52 of the deliberation."""

from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field

from rp_api.domain.forms import FormStatus, Routing
from rp_api.identifiers import IsoDate, IsoDateTime
from rp_api.schemas.base import ApiModel

_TEXT = Field(default=None, max_length=4000)


class Contact(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Marie Dubois", "email": "marie.dubois@example.be", "phone": "+32 2 000 00 00"}]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40)


class InsurerContacts(ApiModel):
    """The insurer's contacts for this person: return-to-work coordinator, advising physician, team member."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"returnToWorkCoordinator": {"name": "Marie Dubois"}}]})

    return_to_work_coordinator: Contact | None = None
    advising_physician: Contact | None = None
    multidisciplinary_team_member: Contact | None = None


class PhysicianQuestion(ApiModel):
    """The physician's question to the regional partner. ``functionalCapacities`` is health data."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"expectations": "Job coaching towards office work", "functionalCapacities": "No lifting over 5 kg"}
            ]
        }
    )

    expectations: str | None = _TEXT
    functional_capacities: str | None = _TEXT


class FormContent(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "expectations": "Guidance towards a training in logistics",
                    "workProblems": "Cannot return to night shifts",
                    "incapacityStartDate": "2025-03-01",
                    "insurerContacts": {"returnToWorkCoordinator": {"name": "Marie Dubois"}},
                    "physicianQuestion": {"expectations": "Job coaching", "functionalCapacities": "No lifting"},
                }
            ]
        }
    )

    expectations: str | None = _TEXT
    """The regional partner's expectations."""
    work_problems: str | None = _TEXT
    """The problems the person meets at work."""
    incapacity_start_date: IsoDate | None = None
    insurer_contacts: InsurerContacts | None = None
    occupational_physician_name: str | None = Field(
        default=None, max_length=200, description="Only on a form created by an occupational physician."
    )
    physician_question: PhysicianQuestion | None = None


class TargetGroupDecisionIn(ApiModel):
    """Routing C: the insurer's decision whether the person belongs to the target group."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"inTargetGroup": True, "motivation": "Incapacity over one year"}]}
    )

    in_target_group: bool
    motivation: str = Field(min_length=1, max_length=4000)


class TargetGroupDecisionOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"inTargetGroup": True, "motivation": "Incapacity over one year", "decidedAt": "2026-11-20T10:00:00Z"}
            ]
        }
    )

    in_target_group: bool
    motivation: str | None = None
    decided_at: IsoDateTime | None = None


class CreatedBy(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"enterpriseNumber": "0411159046", "type": "insurer", "role": "medicalAdvisor"}]
        }
    )

    enterprise_number: str
    type: str
    role: str


class RegistrationFormOut(ApiModel):
    """A registration form as the caller may see it: fields it may not see are absent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f0c7c9e-4d8a-4c1b-9f6e-2a9d8e7c6b5a",
                    "dossierId": "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a",
                    "routing": "standard",
                    "status": "submitted",
                    "createdBy": {"enterpriseNumber": "0411159046", "type": "insurer", "role": "medicalAdvisor"},
                    "incapacityAtLeastOneYear": True,
                    "expectations": "Guidance towards a training in logistics",
                    "self": "/rp/v1/registrationForms/3f0c7c9e-4d8a-4c1b-9f6e-2a9d8e7c6b5a",
                }
            ]
        }
    )

    id: uuid.UUID
    dossier_id: uuid.UUID
    routing: Routing
    status: FormStatus
    created_by: CreatedBy
    created_at: IsoDateTime
    updated_at: IsoDateTime
    submitted_at: IsoDateTime | None = None
    incapacity_at_least_one_year: bool | None = None
    expectations: str | None = None
    work_problems: str | None = None
    incapacity_start_date: IsoDate | None = None
    insurer_contacts: InsurerContacts | None = None
    occupational_physician_name: str | None = None
    physician_question: PhysicianQuestion | None = None
    target_group_decision: TargetGroupDecisionOut | None = None
    self_: str = Field(alias="self")


class RegistrationFormList(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": [], "self": "/rp/v1/dossiers/7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a/registrationForms"}
            ]
        }
    )

    items: list[RegistrationFormOut]
    self_: str = Field(alias="self")
