"""Conversation use cases: create (every participant must have access to the person), list, post, read, mark read.

Access is checked again on every call against the person's links (an organisation that lost its link loses the
conversation) and every call is audited; a caller outside the conversation, or a non-physician on a medical one,
gets 404 and an audited denial. A prevention service's conversation with a regional service is the occupational
physician's contact with the employment partner: opening one, and posting in one, is refused (409
``consentRequired``) until the person's consent is in force on the dossier (deliberation 26/060 §63,
:mod:`rp_api.domain.consent`); a withdrawal stops it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonGuard
from rp_api.domain import consent as consent_rules
from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType
from rp_api.domain.conversations import refusal
from rp_api.domain.policy import PHYSICIAN_ROLES, Action, Caller
from rp_api.models.conversation import Conversation, Message
from rp_api.models.dossier import Dossier
from rp_api.problems import (
    INVALID_INPUT,
    BadRequest,
    InputIssue,
    MissingPermission,
    ResourceNotFound,
)
from rp_api.repositories import conversations as repository
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import feed
from rp_api.schemas.conversation import ConversationIn, ConversationOut, MessageOut
from rp_api.services import consents
from rp_api.urls import API_PREFIX

CONVERSATION = "conversation"


def view(conversation: Conversation, participants: frozenset[str]) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        dossier_id=conversation.dossier_id,
        subject=conversation.subject,
        medical=conversation.medical,
        participants=sorted(participants),
        created_by=conversation.created_by,
        created_at=conversation.created_at,
        self_=f"{API_PREFIX}/conversations/{conversation.id}",
    )


def _types(registry: OrganisationRegistry, participants: Iterable[str]) -> set[OrganisationType]:
    """The organisation types of a conversation's participants (one the registry no longer knows has none)."""
    found = (registry.by_enterprise_number(number) for number in participants)
    return {organisation.type for organisation in found if organisation is not None}


async def _require_consent(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    dossier: Dossier,
    participants: Iterable[str],
    *,
    lang: str,
) -> None:
    """409 ``consentRequired`` when the caller writing to these participants needs a consent not in force."""
    scope = consent_rules.needed_to_converse(guard.principal.organisation_type, _types(registry, participants))
    await consents.require(session, dossier.id, scope, lang=lang)


async def create(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    dossier: Dossier,
    body: ConversationIn,
    *,
    lang: str = "en",
) -> ConversationOut:
    principal = guard.principal
    access = await guard(
        dossier.ssin, Action.CONTRIBUTE_TO_DOSSIER, operation="createConversation", resource_type=CONVERSATION
    )
    if body.medical and principal.roles.isdisjoint(PHYSICIAN_ROLES):
        raise MissingPermission("Only physicians (and those under them) open a medical conversation")
    issues = []
    for index, number in enumerate(body.participants):
        organisation = registry.by_enterprise_number(number)
        if organisation is None:
            issues.append(InputIssue(INVALID_INPUT, "Unknown organisation", None, "body", f"participants[{index}]"))
            continue
        # Each participant must have access to the person, by its own link (checked now, and again on every read).
        caller = Caller(
            organisation.type, organisation.enterprise_number, organisation.oa_number, ROLES_BY_TYPE[organisation.type]
        )
        if not await guard.allows(caller, dossier.ssin, Action.CONSULT_DOSSIER):
            issues.append(
                InputIssue(
                    INVALID_INPUT,
                    "This organisation has no access to the person",
                    None,
                    "body",
                    f"participants[{index}]",
                )
            )
    if issues:
        raise BadRequest(issues)
    participants = {principal.enterprise_number, *body.participants}
    await _require_consent(session, guard, registry, dossier, participants, lang=lang)
    conversation = await repository.add(
        session,
        Conversation(
            id=uuid.uuid4(),
            dossier_id=dossier.id,
            subject=body.subject,
            medical=body.medical,
            created_by=principal.enterprise_number,
        ),
        participants,
    )
    guard.names(access, resource_id=str(conversation.id))
    await dossier_repository.touch(session, dossier.id)
    return view(conversation, frozenset(participants))


async def open_conversation(
    session: AsyncSession, guard: PersonGuard, conversation_id: uuid.UUID, *, action: Action, operation: str
) -> tuple[Conversation, frozenset[str], Dossier]:
    conversation = await repository.get(session, conversation_id)
    if conversation is None:
        raise ResourceNotFound()
    dossier = await dossier_repository.get(session, conversation.dossier_id)
    assert dossier is not None
    participants = await repository.participants(session, conversation.id)
    principal = guard.principal
    await guard(
        dossier.ssin,
        action,
        operation=operation,
        resource_type=CONVERSATION,
        resource_id=str(conversation.id),
        refine=lambda: refusal(
            participants=participants,
            medical=conversation.medical,
            enterprise_number=principal.enterprise_number,
            roles=principal.roles,
        ),
    )
    return conversation, participants, dossier


async def visible_of(session: AsyncSession, guard: PersonGuard, dossier: Dossier) -> list[ConversationOut]:
    principal = guard.principal
    await guard(
        dossier.ssin,
        Action.CONSULT_DOSSIER,
        operation="listConversations",
        resource_type="dossier",
        resource_id=str(dossier.id),
    )
    return [
        view(conversation, participants)
        for conversation, participants in await repository.of_dossier(session, dossier.id)
        if refusal(
            participants=participants,
            medical=conversation.medical,
            enterprise_number=principal.enterprise_number,
            roles=principal.roles,
        )
        is None
    ]


async def post(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    conversation_id: uuid.UUID,
    text: str,
    *,
    lang: str = "en",
) -> MessageOut:
    conversation, participants, dossier = await open_conversation(
        session, guard, conversation_id, action=Action.CONTRIBUTE_TO_DOSSIER, operation="postMessage"
    )
    await _require_consent(session, guard, registry, dossier, participants, lang=lang)
    principal = guard.principal
    message = await repository.post(
        session,
        Message(
            id=uuid.uuid4(),
            conversation_id=conversation.id,
            text=text,
            author_name=principal.user_name or principal.organisation_name,
            author_organisation=principal.enterprise_number,
            author_role=sorted(principal.roles)[0],
        ),
    )
    await repository.mark_read(session, conversation.id, principal.user_ssin, message.seq)
    await dossier_repository.touch(session, dossier.id)  # a message is a change: it restarts the retention clock
    await feed.publish(
        session,
        participants - {principal.enterprise_number},
        kind="messagePosted",
        dossier_id=dossier.id,
        resource_id=conversation.id,
        medical=conversation.medical,
    )
    return _message_out(message, read_up_to=message.seq)


def _message_out(message: Message, *, read_up_to: int) -> MessageOut:
    return MessageOut(
        id=message.id,
        text=message.text,
        author_name=message.author_name,
        author_organisation=message.author_organisation,
        author_role=message.author_role,
        posted_at=message.posted_at,
        read=message.seq <= read_up_to,
    )


async def read_messages(session: AsyncSession, guard: PersonGuard, conversation_id: uuid.UUID) -> list[MessageOut]:
    conversation, _, _ = await open_conversation(
        session, guard, conversation_id, action=Action.CONSULT_DOSSIER, operation="readMessages"
    )
    read_up_to = await repository.read_up_to(session, conversation.id, guard.principal.user_ssin)
    return [_message_out(m, read_up_to=read_up_to) for m in await repository.messages(session, conversation.id)]


async def mark_read(
    session: AsyncSession, guard: PersonGuard, conversation_id: uuid.UUID, up_to: uuid.UUID
) -> list[MessageOut]:
    conversation, _, _ = await open_conversation(
        session, guard, conversation_id, action=Action.CONSULT_DOSSIER, operation="markMessagesRead"
    )
    message = await repository.message_by_id(session, up_to)
    if message is None or message.conversation_id != conversation.id:
        raise BadRequest([InputIssue(INVALID_INPUT, "No such message in this conversation", None, "body", "upTo")])
    await repository.mark_read(session, conversation.id, guard.principal.user_ssin, message.seq)
    read_up_to = await repository.read_up_to(session, conversation.id, guard.principal.user_ssin)
    return [_message_out(m, read_up_to=read_up_to) for m in await repository.messages(session, conversation.id)]
