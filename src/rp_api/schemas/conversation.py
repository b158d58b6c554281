"""Conversations, messages and the change feed."""

from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field

from rp_api.identifiers import EnterpriseNumber, IsoDateTime
from rp_api.schemas.base import ApiModel

_CONVERSATION = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"


class ConversationIn(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"subject": "Start date of the training", "participants": ["0411159046"], "medical": False}]
        }
    )

    subject: str = Field(min_length=1, max_length=200)
    participants: list[EnterpriseNumber] = Field(
        min_length=1, max_length=20, description="Other organisations; each must have access to the person."
    )
    medical: bool = Field(default=False, description="Visible to physicians (and those under them) only.")


class ConversationOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _CONVERSATION,
                    "dossierId": "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a",
                    "subject": "Start date of the training",
                    "medical": False,
                    "participants": ["0411159046", "0847877592"],
                    "createdBy": "0411159046",
                    "createdAt": "2026-11-22T09:00:00Z",
                    "self": f"/rp/v1/conversations/{_CONVERSATION}",
                }
            ]
        }
    )

    id: uuid.UUID
    dossier_id: uuid.UUID
    subject: str
    medical: bool
    participants: list[str]
    created_by: str
    created_at: IsoDateTime
    self_: str = Field(alias="self")


class ConversationList(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [], "self": "/rp/v1/dossiers/7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a/conversations"}]
        }
    )

    items: list[ConversationOut]
    self_: str = Field(alias="self")


class MessageIn(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "The training starts on 4 January."}]})

    text: str = Field(
        min_length=1,
        max_length=8000,
        description="No medical information here unless the conversation is `medical` (read by physicians and "
        "those working under them only): the participants of any other conversation include non-physicians.",
    )


class MessageOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                    "text": "The training starts on 4 January.",
                    "authorName": "Jan Peeters",
                    "authorOrganisation": "0847877592",
                    "authorRole": "referenceAdvisor",
                    "postedAt": "2026-11-22T09:05:00Z",
                    "read": False,
                }
            ]
        }
    )

    id: uuid.UUID
    text: str
    author_name: str
    author_organisation: str
    author_role: str
    posted_at: IsoDateTime
    read: bool


class MessageList(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "self": f"/rp/v1/conversations/{_CONVERSATION}/messages"}]}
    )

    items: list[MessageOut]
    self_: str = Field(alias="self")


class ReadMark(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"upTo": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}]})

    up_to: uuid.UUID = Field(description="The last message read (and every one before it).")


class EventOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "position": "MTIzNDU2LjQy",
                    "kind": "messagePosted",
                    "dossierId": "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a",
                    "resourceId": _CONVERSATION,
                    "occurredAt": "2026-11-22T09:05:00Z",
                }
            ]
        }
    )

    position: str = Field(description="Pass it as `after` to resume just after this event.")
    kind: str = Field(
        description="formVisible (a registration form was submitted, or its target-group decision taken), "
        "formChanged (cancelled), requestChanged, decisionRecorded, followUpRecorded (a step of a decided "
        "trajectory; resourceId: the request), dossierClosed (closed by the person's insurer or INAMI; resourceId: "
        "the dossier) or messagePosted. An item reaches the "
        "organisations it is addressed to (from the person's links when it happens) and is re-checked against the "
        "caller's current links when the feed is read."
    )
    dossier_id: uuid.UUID
    resource_id: uuid.UUID
    occurred_at: IsoDateTime


class EventPage(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "self": "/rp/v1/events?after=0", "next": "MTIzNDU2LjQy"}]}
    )

    items: list[EventOut]
    self_: str = Field(alias="self")
    next: str = Field(description="The position to ask `after` next time (unchanged when nothing is new).")
