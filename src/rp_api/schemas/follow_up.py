"""Follow-up documents (suivi du trajet, deliberation 26/060 §48): a step of a decided trajectory as its runner
records it, a request's follow-up, and the lines of the follow-up list. Coded values only, no free text: nothing
here can carry health data."""

from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field

from rp_api.domain.follow_up import FollowUpEvent, InterruptionReason, TrajectoryResult, TrajectoryState
from rp_api.domain.requests import RequestType
from rp_api.identifiers import IsoDate, IsoDateTime
from rp_api.schemas.base import ApiModel
from rp_api.schemas.work_list import WorkListPerson

_REQUEST_ID = "5b2d9f4e-8c1a-4e7b-9d3f-6a0e1c2b3d4f"
_FOLLOW_UP_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
_DOSSIER_ID = "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a"

EVENT_TEXT = (
    "`started` (first), `interrupted` (while it runs, with a `reason`), `resumed` (after an interruption), `ended` "
    "(while it runs or is interrupted, with a `result`; nothing follows an end)."
)
REASON_TEXT = (
    "For an interruption only, and required there: a coded, non-medical reason (an interruption for health reasons "
    "is `personalCircumstances`, which does not tell health from any other personal matter)."
)
RESULT_TEXT = "For an end only, and required there: what came of the trajectory."


class FollowUpIn(ApiModel):
    """A step of the trajectory, recorded by the party that runs it (its requester)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"event": "started", "occurredOn": "2027-01-04"},
                {"event": "interrupted", "occurredOn": "2027-02-01", "reason": "trainingCancelledByProvider"},
                {"event": "ended", "occurredOn": "2027-03-26", "result": "workResumedSameEmployer"},
            ]
        }
    )

    event: FollowUpEvent = Field(description=EVENT_TEXT)
    occurred_on: IsoDate = Field(
        description="When it happened: not in the future (the date in Belgium), not before the previous step, and "
        "within the period INAMI approved, give or take 31 days."
    )
    reason: InterruptionReason | None = Field(default=None, description=REASON_TEXT)
    result: TrajectoryResult | None = Field(default=None, description=RESULT_TEXT)


class Recorder(ApiModel):
    """The organisation (and the role of its user) that recorded the step."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"enterpriseNumber": "1839337457", "role": "referenceAdvisor"}]}
    )

    enterprise_number: str
    role: str


class FollowUpOut(ApiModel):
    """A recorded step (it is never changed: a later step follows it)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _FOLLOW_UP_ID,
                    "requestId": _REQUEST_ID,
                    "event": "interrupted",
                    "occurredOn": "2027-02-01",
                    "reason": "trainingCancelledByProvider",
                    "result": None,
                    "recordedBy": {"enterpriseNumber": "1839337457", "role": "referenceAdvisor"},
                    "recordedAt": "2027-02-02T08:30:00Z",
                    "self": f"/rp/v1/requests/{_REQUEST_ID}/followUps/{_FOLLOW_UP_ID}",
                }
            ]
        }
    )

    id: uuid.UUID
    request_id: uuid.UUID
    event: FollowUpEvent
    occurred_on: IsoDate
    reason: InterruptionReason | None = Field(default=None, description=REASON_TEXT)
    result: TrajectoryResult | None = Field(default=None, description=RESULT_TEXT)
    recorded_by: Recorder
    recorded_at: IsoDateTime
    self_: str = Field(alias="self")


class FollowUpHistory(ApiModel):
    """A request's follow-up: its steps in the order they were recorded, and where the trajectory stands."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "requestId": _REQUEST_ID,
                    "state": "interrupted",
                    "items": [],
                    "self": f"/rp/v1/requests/{_REQUEST_ID}/followUps",
                }
            ]
        }
    )

    request_id: uuid.UUID
    state: TrajectoryState = Field(
        description="`notStarted` (no step yet), `running`, `interrupted` or `ended`: what the steps lead to."
    )
    items: list[FollowUpOut]
    self_: str = Field(alias="self")


class FollowUpListItem(ApiModel):
    """One line of a follow-up list (liste de suivi): a recorded step, its request and its person; no health data."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _FOLLOW_UP_ID,
                    "requestId": _REQUEST_ID,
                    "dossierId": _DOSSIER_ID,
                    "person": {"ssin": "85073003328", "givenName": "An", "familyName": "Peeters"},
                    "type": "training",
                    "event": "ended",
                    "occurredOn": "2027-03-26",
                    "reason": None,
                    "result": "workResumedSameEmployer",
                    "recordedBy": {"enterpriseNumber": "1839337457", "role": "referenceAdvisor"},
                    "recordedAt": "2027-03-27T09:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    request_id: uuid.UUID
    dossier_id: uuid.UUID
    person: WorkListPerson
    type: RequestType
    event: FollowUpEvent
    occurred_on: IsoDate
    reason: InterruptionReason | None = None
    result: TrajectoryResult | None = None
    recorded_by: Recorder
    recorded_at: IsoDateTime


class FollowUpList(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [], "self": "/rp/v1/followUps?from=2027-01-01&to=2027-01-31", "next": None}]
        }
    )

    items: list[FollowUpListItem]
    self_: str = Field(alias="self")
    next: str | None = None
