"""Requests (training or coaching), INAMI's decisions and decision lists (hours: :mod:`rp_api.schemas.hours`)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from rp_api.domain.requests import RequestStatus, RequestType
from rp_api.domain.visibility import Block, readers_text
from rp_api.identifiers import IsoDate, IsoDateTime
from rp_api.schemas.base import ApiModel
from rp_api.schemas.registration_form import NO_MEDICAL_INFORMATION, Contact, InsurerContacts

_REQUEST_ID = "5b8e2c1d-9a7f-4e3b-8c6d-1f2e3a4b5c6d"
WEEK_PATTERN = r"^[1-9][0-9]{3}-W(0[1-9]|[1-4][0-9]|5[0-3])$"  # [0-9]: a regex \d takes any script's digits
MONTH_PATTERN = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"  # [0-9]: a regex \d takes any script's digits


class Training(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "provider": "Syntra",
                    "title": "Forklift operator",
                    "startDate": "2027-01-04",
                    "endDate": "2027-03-26",
                    "plannedHours": 120,
                    "cost": "1450.00",
                }
            ]
        }
    )

    provider: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=200)
    start_date: IsoDate
    end_date: IsoDate
    planned_hours: Decimal = Field(gt=0, le=2000, decimal_places=2)
    cost: Decimal = Field(ge=0, le=1_000_000, decimal_places=2)

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Training:
        if self.end_date < self.start_date:
            raise ValueError("endDate is before startDate")
        return self


class RequestIn(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "training",
                    "registrationFormId": "3f0c7c9e-4d8a-4c1b-9f6e-2a9d8e7c6b5a",
                    "trainingProject": "Towards logistics",
                    "trainings": [
                        {
                            "provider": "Syntra",
                            "title": "Forklift operator",
                            "startDate": "2027-01-04",
                            "endDate": "2027-03-26",
                            "plannedHours": 120,
                            "cost": "1450.00",
                        }
                    ],
                    "referenceAdvisor": {"name": "Jan Peeters"},
                }
            ]
        }
    )

    type: RequestType
    registration_form_id: uuid.UUID | None = Field(default=None, description="Required from a regional service.")
    training_project: str | None = Field(default=None, max_length=4000)
    trainings: list[Training] = Field(default_factory=list, max_length=20)
    insurer_contacts: InsurerContacts | None = None
    reference_advisor: Contact | None = None
    medical_information: str | None = Field(
        default=None,
        max_length=8000,
        description="Health data for INAMI's medical inspector. "
        + readers_text(Block.REQUEST_MEDICAL_INFORMATION, written=True)
        + " Another role sending it gets 400 naming it, and nothing is written.",
    )

    @model_validator(mode="after")
    def _a_training_has_trainings(self) -> RequestIn:
        if self.type is RequestType.TRAINING and not self.trainings:
            raise ValueError("a training request lists at least one training")
        return self


class TrainingOut(ApiModel):
    """A training of a request as the caller may see it: its cost only for those who see the costs."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"id": "t1", "provider": "Syntra"}]})

    id: str
    provider: str
    title: str
    start_date: IsoDate
    end_date: IsoDate
    planned_hours: Decimal
    cost: Decimal | None = Field(default=None, description=readers_text(Block.REQUEST_COSTS))


class ValidationOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"validated": True, "motivation": "OK", "at": "2026-11-20T10:00:00Z"}]}
    )

    validated: bool
    motivation: str | None = None
    at: IsoDateTime | None = None


class DecisionOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b",
                    "requestId": _REQUEST_ID,
                    "week": "2026-W47",
                    "outcome": "approved",
                    "approvedAmount": "1450.00",
                    "periodStart": "2027-01-04",
                    "periodEnd": "2027-03-26",
                    "motivation": "Meets the conditions",
                    "decidedAt": "2026-11-20T10:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    request_id: uuid.UUID
    week: str
    outcome: Literal["approved", "refused"]
    approved_amount: Decimal | None = Field(default=None, description=readers_text(Block.REQUEST_COSTS))
    period_start: IsoDate | None = None
    period_end: IsoDate | None = None
    motivation: str | None = Field(default=None, description=readers_text(Block.REQUEST_DECISION_MOTIVATION))
    decided_at: IsoDateTime


MedicalConclusion = Literal["compatible", "notCompatible", "compatibleWithConditions"]
"""The medical inspector's conclusion for the social expert (26/060 §49–50): whether the request is compatible with
the person's state of health, without saying why (not health data)."""


class MedicalConclusionOut(ApiModel):
    """The non-medical conclusion of INAMI's medical inspector on a request, for the social expert who asked for
    the medical advice (26/060 §49–50). The advice itself is health data, for physicians only."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"conclusion": "compatibleWithConditions", "remarks": "Half-days first"}]}
    )

    conclusion: MedicalConclusion
    remarks: str | None = Field(default=None, description=NO_MEDICAL_INFORMATION)


class RequestOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _REQUEST_ID,
                    "dossierId": "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a",
                    "type": "training",
                    "status": "awaitingInsurerValidation",
                    "requester": {
                        "enterpriseNumber": "0847877592",
                        "type": "regionalService",
                        "role": "referenceAdvisor",
                    },
                    "trainings": [],
                    "totalCost": "1450.00",
                    "self": f"/rp/v1/requests/{_REQUEST_ID}",
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
    training_project: str | None = Field(default=None, description=readers_text(Block.REQUEST_CONTENT))
    trainings: list[TrainingOut] = Field(default_factory=list, description=readers_text(Block.REQUEST_CONTENT))
    total_cost: Decimal | None = Field(default=None, description=readers_text(Block.REQUEST_COSTS))
    insurer_contacts: InsurerContacts | None = Field(default=None, description=readers_text(Block.REQUEST_CONTENT))
    reference_advisor: Contact | None = Field(default=None, description=readers_text(Block.REQUEST_CONTENT))
    insurer_validation: ValidationOut | None = Field(
        default=None, description=readers_text(Block.REQUEST_INSURER_VALIDATION)
    )
    decision: DecisionOut | None = Field(
        default=None,
        description="INAMI's decision once taken (its `approvedAmount` and `motivation` each as the visibility "
        f"table says). {readers_text(Block.REQUEST_DECISION)}",
    )
    medical_information: str | None = Field(
        default=None, description=f"Health data. {readers_text(Block.REQUEST_MEDICAL_INFORMATION)}"
    )
    medical_advice: str | None = Field(
        default=None, description=f"Health data. {readers_text(Block.REQUEST_MEDICAL_ADVICE)}"
    )
    medical_conclusion: MedicalConclusionOut | None = Field(
        default=None,
        description="The medical inspector's non-medical conclusion, once it gave its advice. "
        + readers_text(Block.REQUEST_MEDICAL_CONCLUSION),
    )
    extends: uuid.UUID | None = Field(
        default=None,
        description="An extension (prolongation): the id of the approved request whose trajectory it extends.",
    )
    extensions: list[uuid.UUID] | None = Field(
        default=None,
        description="The ids of the requests that extend this one, oldest first (`GET /requests/{requestId}` only).",
    )
    self_: str = Field(alias="self")


class ValidationIn(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"validated": True, "motivation": "Fits the path"}]})

    validated: bool
    motivation: str = Field(min_length=1, max_length=4000, description=NO_MEDICAL_INFORMATION)


class MedicalText(ApiModel):
    """Medical information (health data) of the insurer's médecin-conseil for INAMI's medical inspector."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "Medical information for the SIDU physician"}]})

    text: str = Field(min_length=1, max_length=8000)


class MedicalAdviceIn(ApiModel):
    """INAMI's medical inspector's advice on a request (26/060 §49–50): the advice itself (health data, for
    physicians only) and its non-medical conclusion for the social expert, with optional non-medical remarks."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "Medical advice for the file",
                    "conclusion": "compatibleWithConditions",
                    "conclusionRemarks": "Half-days during the first month",
                }
            ]
        }
    )

    text: str = Field(
        min_length=1, max_length=8000, description=f"Health data. {readers_text(Block.REQUEST_MEDICAL_ADVICE)}"
    )
    conclusion: MedicalConclusion = Field(description=readers_text(Block.REQUEST_MEDICAL_CONCLUSION))
    conclusion_remarks: str | None = Field(
        default=None, min_length=1, max_length=4000, description=f"{NO_MEDICAL_INFORMATION} Shown with the conclusion."
    )


class DecisionIn(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "requestId": _REQUEST_ID,
                    "outcome": "approved",
                    "approvedAmount": "1450.00",
                    "periodStart": "2027-01-04",
                    "periodEnd": "2027-03-26",
                    "motivation": "Meets the conditions",
                }
            ]
        }
    )

    request_id: uuid.UUID
    outcome: Literal["approved", "refused"]
    approved_amount: Decimal | None = Field(default=None, ge=0, le=1_000_000, decimal_places=2)
    period_start: IsoDate | None = None
    period_end: IsoDate | None = None
    motivation: str = Field(min_length=1, max_length=4000, description=NO_MEDICAL_INFORMATION)

    @model_validator(mode="after")
    def _approval_has_amount_and_period(self) -> DecisionIn:
        if self.outcome == "approved" and (
            self.approved_amount is None or not self.period_start or not self.period_end
        ):
            raise ValueError("an approval has approvedAmount, periodStart and periodEnd")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("periodEnd is before periodStart")
        return self


class DecisionRoundIn(ApiModel):
    """A weekly round: all of its decisions are recorded, or none."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"week": "2026-W47", "decisions": []}]})

    week: str = Field(pattern=WEEK_PATTERN)
    decisions: list[DecisionIn] = Field(min_length=1, max_length=1000)


class DecisionRoundOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "0e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b", "week": "2026-W47", "decisions": []}]
        }
    )

    id: uuid.UUID
    week: str
    decisions: list[DecisionOut]


class DecisionListTraining(ApiModel):
    """A training of a decided request as a decision list shows it: who gives it, what, and when."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"provider": "Syntra", "title": "Forklift operator", "startDate": "2027-01-04", "endDate": "2027-03-26"}
            ]
        }
    )

    provider: str
    title: str
    start_date: IsoDate
    end_date: IsoDate


class DecisionListItem(ApiModel):
    """One line of a decision list (liste des décisions): the decision, the request it decides and the person's
    name; never health data (no medical information or advice, no incapacity date), whoever reads it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "decisionId": "0e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b",
                    "requestId": _REQUEST_ID,
                    "dossierId": "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a",
                    "ssin": "85073003328",
                    "type": "training",
                    "week": "2026-W47",
                    "outcome": "approved",
                    "approvedAmount": "1450.00",
                    "periodStart": "2027-01-04",
                    "periodEnd": "2027-03-26",
                    "decidedAt": "2026-11-20T10:00:00Z",
                    "givenName": "An",
                    "familyName": "Peeters",
                    "trainingProject": "Towards logistics",
                    "trainings": [
                        {
                            "provider": "Syntra",
                            "title": "Forklift operator",
                            "startDate": "2027-01-04",
                            "endDate": "2027-03-26",
                        }
                    ],
                    "totalCost": "1450.00",
                    "motivation": "Meets the conditions",
                }
            ]
        }
    )

    decision_id: uuid.UUID
    request_id: uuid.UUID
    dossier_id: uuid.UUID
    ssin: str
    type: RequestType
    week: str
    outcome: str
    approved_amount: Decimal | None = None
    period_start: IsoDate | None = None
    period_end: IsoDate | None = None
    decided_at: IsoDateTime
    given_name: str | None = Field(
        default=None, description="From the National Register; null when it could not be read for this line."
    )
    family_name: str | None = Field(
        default=None, description="From the National Register; null when it could not be read for this line."
    )
    training_project: str | None = None
    trainings: list[DecisionListTraining] = Field(
        default_factory=list, description="The request's trainings (a coaching request has none)."
    )
    total_cost: Decimal | None = Field(
        default=None,
        description="The request's total cost (sum of its trainings' costs); null for a caller the visibility table "
        "gives no costs (a prevention service). `approvedAmount` likewise.",
    )
    motivation: str | None = Field(
        default=None,
        description="INAMI's motivation of its decision (never the medical advice); null for a caller the visibility "
        "table does not give it (a prevention service).",
    )
    extends: uuid.UUID | None = Field(
        default=None,
        description="For the decision on an extension (prolongation): the id of the request whose trajectory it "
        "extends; null otherwise.",
    )


class DecisionList(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "self": "/rp/v1/decisions?week=2026-W47", "next": None}]}
    )

    items: list[DecisionListItem]
    self_: str = Field(alias="self")
    next: str | None = None
