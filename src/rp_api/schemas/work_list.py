"""Work-list documents (listes de travail): the queries, and the lines — a request or a registration form as the
caller may see it, without health data, with the person's name."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import ConfigDict, Field

from rp_api.domain.forms import FormStatus, Routing
from rp_api.domain.requests import RequestStatus, RequestType
from rp_api.domain.work_lists import FormQueue, RequestQueue
from rp_api.identifiers import IsoDate, IsoDateTime
from rp_api.schemas.base import ApiModel
from rp_api.schemas.registration_form import Contact, CreatedBy, InsurerContacts, TargetGroupDecisionOut
from rp_api.schemas.request import DecisionOut, MedicalConclusionOut, TrainingOut, ValidationOut

_REQUEST_ID = "5b2d9f4e-8c1a-4e7b-9d3f-6a0e1c2b3d4f"
_FORM_ID = "3f0c7c9e-4d8a-4c1b-9f6e-2a9d8e7c6b5a"
_DOSSIER_ID = "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a"
_PAGE = Field(default=None, max_length=200, description="The `next` cursor of the previous page.")
_PAGE_SIZE = Field(default=20, ge=1, le=100)
_CHANGED_SINCE = Field(default=None, description="Only items changed at or after this time (`updatedAt`).")
_CREATED_FROM = Field(default=None, description="Only items created on or after this day (UTC).")
_CREATED_TO = Field(default=None, description="Only items created on or before this day (UTC).")


class RequestWorkListQuery(ApiModel):
    """The requests addressed to the caller's organisation, narrowed by every filter given (all optional)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"queue": "atInami", "pageSize": 100},
                {"status": ["awaitingInsurerValidation"], "type": "training", "changedSince": "2026-11-01T00:00:00Z"},
            ]
        }
    )

    status: list[RequestStatus] | None = Field(default=None, min_length=1, max_length=len(RequestStatus))
    type: RequestType | None = None
    queue: RequestQueue | None = Field(
        default=None,
        description="`awaitingInsurerValidation`: trainings waiting for the insurer's validation; `atInami`: the "
        "requests at INAMI (the social expert's weekly round); `awaitingMedicalAdvice`: at INAMI with medical "
        "information and no medical advice yet (physicians who may read medical information only, else 403).",
    )
    changed_since: IsoDateTime | None = _CHANGED_SINCE
    created_from: IsoDate | None = _CREATED_FROM
    created_to: IsoDate | None = _CREATED_TO
    page_size: int = _PAGE_SIZE
    page: str | None = _PAGE


class FormWorkListQuery(ApiModel):
    """The registration forms addressed to the caller's organisation that it may read, narrowed by every filter
    given (all optional)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"queue": "awaitingTargetGroupDecision"},
                {"queue": "registeredWithMe", "createdFrom": "2026-11-01", "createdTo": "2026-11-30"},
            ]
        }
    )

    status: list[FormStatus] | None = Field(default=None, min_length=1, max_length=len(FormStatus))
    routing: Routing | None = None
    queue: FormQueue | None = Field(
        default=None,
        description="`awaitingTargetGroupDecision`: routing C forms waiting for the insurer's target-group decision "
        "(insurer roles that decide it, else 403); `registeredWithMe`: valid forms of persons registered with the "
        "calling regional service (regional services only, else 403).",
    )
    changed_since: IsoDateTime | None = _CHANGED_SINCE
    created_from: IsoDate | None = _CREATED_FROM
    created_to: IsoDate | None = _CREATED_TO
    page_size: int = _PAGE_SIZE
    page: str | None = _PAGE


class WorkListPerson(ApiModel):
    """The line's person; the name is absent when the National Register did not answer for it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ssin": "85073003328", "givenName": "An", "familyName": "Peeters"}]}
    )

    ssin: str
    given_name: str | None = None
    family_name: str | None = None


class RequestLine(ApiModel):
    """A request as ``GET /requests/{requestId}`` shows it to the caller, without health data (medical information
    and advice: read the request itself), with its person."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _REQUEST_ID,
                    "dossierId": _DOSSIER_ID,
                    "registrationFormId": _FORM_ID,
                    "type": "training",
                    "status": "awaitingInsurerValidation",
                    "requester": {
                        "enterpriseNumber": "0847877592",
                        "type": "regionalService",
                        "role": "referenceAdvisor",
                    },
                    "createdAt": "2026-11-20T09:00:00Z",
                    "updatedAt": "2026-11-20T09:00:00Z",
                    "trainings": [],
                    "totalCost": "1450.00",
                    "self": f"/rp/v1/requests/{_REQUEST_ID}",
                    "person": {"ssin": "85073003328", "givenName": "An", "familyName": "Peeters"},
                }
            ]
        }
    )

    id: uuid.UUID
    dossier_id: uuid.UUID
    registration_form_id: uuid.UUID | None = None
    type: RequestType
    status: RequestStatus
    requester: dict[str, str]
    created_at: IsoDateTime
    updated_at: IsoDateTime
    training_project: str | None = None
    trainings: list[TrainingOut] = Field(default_factory=list)
    total_cost: Decimal | None = Field(
        default=None, description="As the request shows it (absent: not for the caller)."
    )
    insurer_contacts: InsurerContacts | None = None
    reference_advisor: Contact | None = None
    insurer_validation: ValidationOut | None = None
    decision: DecisionOut | None = None
    medical_conclusion: MedicalConclusionOut | None = Field(
        default=None, description="The medical inspector's non-medical conclusion, as the request shows it."
    )
    extends: uuid.UUID | None = Field(default=None, description="An extension: the approved request it extends.")
    self_: str = Field(alias="self")
    person: WorkListPerson


class PhysicianQuestionLine(ApiModel):
    """The physician's question as a line shows it: its expectations (the functional capacities are health data:
    read the form itself)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"expectations": "Job coaching towards office work"}]})

    expectations: str | None = None


class FormLine(ApiModel):
    """A registration form as ``GET /registrationForms/{formId}`` shows it to the caller, without health data (the
    incapacity start date, the functional capacities: read the form itself), with its person."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _FORM_ID,
                    "dossierId": _DOSSIER_ID,
                    "routing": "routingC",
                    "status": "awaitingTargetGroupDecision",
                    "createdBy": {
                        "enterpriseNumber": "0847877592",
                        "type": "regionalService",
                        "role": "referenceAdvisor",
                    },
                    "createdAt": "2026-11-20T09:00:00Z",
                    "updatedAt": "2026-11-20T09:00:00Z",
                    "submittedAt": "2026-11-20T09:00:00Z",
                    "expectations": "Coaching towards office work",
                    "self": f"/rp/v1/registrationForms/{_FORM_ID}",
                    "person": {"ssin": "85073003328", "givenName": "An", "familyName": "Peeters"},
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
    insurer_contacts: InsurerContacts | None = None
    occupational_physician_name: str | None = None
    physician_question: PhysicianQuestionLine | None = None
    target_group_decision: TargetGroupDecisionOut | None = None
    self_: str = Field(alias="self")
    person: WorkListPerson


class RequestWorkList(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "self": "/rp/v1/requests/query", "next": None}]}
    )

    items: list[RequestLine]
    self_: str = Field(alias="self")
    next: str | None = Field(default=None, description="The cursor of the next page (`page`); null on the last page.")


class FormWorkList(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "self": "/rp/v1/registrationForms/query", "next": None}]}
    )

    items: list[FormLine]
    self_: str = Field(alias="self")
    next: str | None = Field(default=None, description="The cursor of the next page (`page`); null on the last page.")
