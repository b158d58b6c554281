"""Conversations between the parties of a dossier, and the change feed of an organisation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import Response

from rp_api.authz.person_guard import GuardedList, GuardedPerson
from rp_api.db import DbSession
from rp_api.i18n import language
from rp_api.responses import ModelResponse
from rp_api.routers import api_router, problem_response
from rp_api.schemas.conversation import (
    ConversationIn,
    ConversationList,
    ConversationOut,
    EventPage,
    MessageIn,
    MessageList,
    MessageOut,
    ReadMark,
)
from rp_api.services import conversations as service
from rp_api.services import dossiers, events
from rp_api.urls import API_PREFIX

router = api_router(
    tags=["Conversations"],
    responses={404: problem_response("No such conversation, or one the caller may not see (404 before 403).")},
)
DossierId = Annotated[uuid.UUID, Path(alias="dossierId")]
ConversationId = Annotated[uuid.UUID, Path(alias="conversationId")]
_CONSENT_REQUIRED = (
    "A prevention service writing to a regional service needs the person's consent in force on the dossier "
    "(`urn:problem-type:rp:consentRequired`, see `POST /dossiers/{dossierId}/consents`)."
)


@router.post(
    "/dossiers/{dossierId}/conversations",
    operation_id="createConversation",
    summary="Open a conversation with other organisations that have access to the person",
    description="Any working role of an organisation linked to the person opens a conversation on the dossier with "
    "`participants`, other organisations (enterprise numbers) that must each have access to the person themselves "
    "(400 naming those that do not). A `medical` conversation is opened, and read, by physicians and those working "
    "under them only (another role: 403). The caller's organisation takes part; every participant is told through "
    "its change feed. Answers the conversation with its `Location`.",
    status_code=201,
    response_model=ConversationOut,
    responses={409: problem_response(_CONSENT_REQUIRED)},
)
async def create_conversation(
    dossier_id: DossierId, body: ConversationIn, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    dossier = await dossiers.load(session, dossier_id)
    lang = language(request.headers.get("accept-language"))
    created = await service.create(session, guard, request.app.state.registry, dossier, body, lang=lang)
    return ModelResponse(created, status_code=201, headers={"Location": f"{API_PREFIX}/conversations/{created.id}"})


@router.get(
    "/dossiers/{dossierId}/conversations",
    operation_id="listConversations",
    summary="The dossier's conversations the caller takes part in",
    description="The dossier's conversations the caller's organisation takes part in, medical ones only to "
    "physicians and those working under them; any other conversation is left out.",
    response_model=ConversationList,
)
async def list_conversations(dossier_id: DossierId, session: DbSession, guard: GuardedPerson) -> Response:
    dossier = await dossiers.load(session, dossier_id)
    items = await service.visible_of(session, guard, dossier)
    return ModelResponse(ConversationList(items=items, self_=f"{API_PREFIX}/dossiers/{dossier.id}/conversations"))


@router.post(
    "/conversations/{conversationId}/messages",
    operation_id="postMessage",
    summary="Post a message",
    description="A participant organisation posts a message (`text`, no medical information unless the conversation "
    "is medical); the author's name (the token's `name`), organisation and role are kept. A non-participant, or a "
    "non-physician on a medical conversation, gets 404. Every other participant is told through its change feed.",
    status_code=201,
    response_model=MessageOut,
    responses={409: problem_response(_CONSENT_REQUIRED)},
)
async def post_message(
    conversation_id: ConversationId, body: MessageIn, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    lang = language(request.headers.get("accept-language"))
    posted = await service.post(session, guard, request.app.state.registry, conversation_id, body.text, lang=lang)
    return ModelResponse(posted, status_code=201)


@router.get(
    "/conversations/{conversationId}/messages",
    operation_id="readMessages",
    summary="The conversation's messages, each marked read or not for the caller",
    description="The messages of a conversation the caller's organisation takes part in, oldest first, each with "
    "`read` for the calling user. A non-participant, or a non-physician on a medical conversation, gets 404.",
    response_model=MessageList,
)
async def read_messages(conversation_id: ConversationId, session: DbSession, guard: GuardedPerson) -> Response:
    items = await service.read_messages(session, guard, conversation_id)
    return ModelResponse(MessageList(items=items, self_=f"{API_PREFIX}/conversations/{conversation_id}/messages"))


@router.post(
    "/conversations/{conversationId}/read",
    operation_id="markMessagesRead",
    summary="Mark messages read, up to and including one",
    description="Marks the conversation's messages read for the calling user, up to and including `upTo` (a message "
    "of this conversation, else 400); answers the messages as `GET …/messages` does.",
    response_model=MessageList,
)
async def mark_read(
    conversation_id: ConversationId, body: ReadMark, session: DbSession, guard: GuardedPerson
) -> Response:
    items = await service.mark_read(session, guard, conversation_id, body.up_to)
    return ModelResponse(MessageList(items=items, self_=f"{API_PREFIX}/conversations/{conversation_id}/messages"))


@router.get(
    "/events",
    operation_id="readEvents",
    summary="The caller organisation's change feed: ids only, each event once and in order",
    description="What changed for the caller's organisation: the forms and requests work routing addressed to it "
    "(`formVisible`, `formChanged`, `requestChanged`, `decisionRecorded`, `followUpRecorded`, `dossierClosed`) and "
    "the messages of its conversations (`messagePosted`), ids only — read the item for its content. Start with "
    "`after=0`, then pass the page's `next`: a consumer following it sees each event meant for it exactly once, in "
    "order. An item whose person the caller's organisation may no longer see is left out (`next` moves past it). "
    "Every working role may read its organisation's feed; an auditor's or a list manager's token is 403.",
    response_model=EventPage,
    tags=["Change feed"],
)
async def read_events(
    session: DbSession,
    guard: GuardedList,
    after: Annotated[
        str, Query(min_length=1, max_length=100, description="0 to start, then a position.")
    ] = events.START,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    page: EventPage = await events.page(
        session, guard, after, limit=limit, self_link=f"{API_PREFIX}/events?after={after}"
    )
    return ModelResponse(page)
