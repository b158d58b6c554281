"""Registration form (formulaire d'inscription, AMF) documents. Content follows point 52 of the deliberation."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ConfigDict, Field, PrivateAttr

from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.forms import FormStatus, Routing
from rp_api.domain.visibility import Block, readers_text
from rp_api.identifiers import IsoDate, IsoDateTime
from rp_api.schemas.base import ApiModel

NO_MEDICAL_INFORMATION = (
    "No medical information here: this text is read by non-physicians (health data goes only where the "
    "visibility table lets physicians write it)."
)
"""The rule of every free text that non-physicians read or write (motivations, remarks, messages)."""


def _text(block: Block, *, free_text: bool = False, written: bool = True, max_length: int = 4000) -> Any:
    """A form's text field, its description generated from the visibility table."""
    description = readers_text(block, written=written)
    if free_text:
        description = f"{NO_MEDICAL_INFORMATION} {description}"
    return Field(default=None, max_length=max_length, description=description)


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
    """The physician's question to the regional partner (26/060 §52 vi), its addressee: expectations, functional
    capacities and/or limitations. ``functionalCapacities`` is health data, written by physicians only; a
    non-physician sending it gets 400 naming it, and nothing is written."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"expectations": "Job coaching towards office work", "functionalCapacities": "No lifting over 5 kg"}
            ]
        }
    )

    expectations: str | None = _text(Block.FORM_QUESTION_EXPECTATIONS, free_text=True)
    functional_capacities: str | None = _text(Block.FORM_QUESTION_FUNCTIONAL_CAPACITIES)


class FormContent(ApiModel):
    """The content of a registration form (26/060 §52). A field the caller's role may not write (the visibility
    table: health data by physicians only) is refused with 400 naming it, and nothing is written; on a `PUT`, a
    field the caller may not write and does not send keeps what it holds (a coordinator replacing the content leaves
    the physician's functional capacities as they are)."""

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

    expectations: str | None = _text(Block.FORM_EXPECTATIONS, free_text=True)
    """The regional partner's expectations."""
    work_problems: str | None = _text(Block.FORM_WORK_PROBLEMS, free_text=True)
    """The problems the person meets at work."""
    incapacity_start_date: IsoDate | None = Field(
        default=None, description=f"Health data. {readers_text(Block.FORM_INCAPACITY_START_DATE, written=True)}"
    )
    insurer_contacts: InsurerContacts | None = Field(
        default=None, description=readers_text(Block.FORM_INSURER_CONTACTS, written=True)
    )
    occupational_physician_name: str | None = Field(
        default=None,
        max_length=200,
        description="Only on a form created by an occupational physician. "
        + readers_text(Block.FORM_OCCUPATIONAL_PHYSICIAN_NAME, written=True),
    )
    physician_question: PhysicianQuestion | None = None
    _writer: tuple[OrganisationType, frozenset[Role]] | None = PrivateAttr(default=None)

    def written_by(self, organisation_type: OrganisationType, roles: frozenset[Role]) -> FormContent:
        """This content as the caller sends it: the service writes only the fields the caller's roles may write."""
        self._writer = (organisation_type, roles)
        return self

    @property
    def writer(self) -> tuple[OrganisationType, frozenset[Role]] | None:
        """Who sends it (:meth:`written_by`); None: nobody said, and no field the table restricts is written."""
        return self._writer


class TargetGroupDecisionIn(ApiModel):
    """Routing C: the insurer's decision whether the person belongs to the target group."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"inTargetGroup": True, "motivation": "Incapacity over one year"}]}
    )

    in_target_group: bool
    motivation: str = Field(min_length=1, max_length=4000, description=NO_MEDICAL_INFORMATION)


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
    """A registration form as the caller may see it: fields it may not see are absent (the visibility table,
    deliberation 26/060 §52). Which forms: a draft is its creator's; a regional service reads the valid forms and
    its own; a prevention service reads only the forms it created (any other is a 404)."""

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
    incapacity_at_least_one_year: bool | None = Field(
        default=None,
        description="Whether the incapacity has lasted at least one year today (from its start date; absent when "
        f"the form has none). {readers_text(Block.FORM_INCAPACITY_AT_LEAST_ONE_YEAR)}",
    )
    expectations: str | None = Field(default=None, description=readers_text(Block.FORM_EXPECTATIONS))
    work_problems: str | None = Field(default=None, description=readers_text(Block.FORM_WORK_PROBLEMS))
    incapacity_start_date: IsoDate | None = Field(
        default=None, description=f"Health data. {readers_text(Block.FORM_INCAPACITY_START_DATE)}"
    )
    insurer_contacts: InsurerContacts | None = Field(
        default=None, description=readers_text(Block.FORM_INSURER_CONTACTS)
    )
    occupational_physician_name: str | None = Field(
        default=None, description=readers_text(Block.FORM_OCCUPATIONAL_PHYSICIAN_NAME)
    )
    physician_question: PhysicianQuestion | None = Field(
        default=None,
        description="Its `expectations` and `functionalCapacities` each as the visibility table says (absent "
        "when the caller sees neither).",
    )
    target_group_decision: TargetGroupDecisionOut | None = Field(
        default=None, description=readers_text(Block.FORM_TARGET_GROUP_DECISION)
    )
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
