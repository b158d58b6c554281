"""Queries of conversations, participants, messages and read marks."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.conversation import Conversation, ConversationParticipant, Message, MessageRead


async def add(session: AsyncSession, conversation: Conversation, participants: set[str]) -> Conversation:
    session.add(conversation)
    await session.flush()
    await session.execute(
        insert(ConversationParticipant).values(
            [{"conversation_id": conversation.id, "enterprise_number": p} for p in sorted(participants)]
        )
    )
    await session.refresh(conversation)
    return conversation


async def get(session: AsyncSession, conversation_id: uuid.UUID) -> Conversation | None:
    return await session.get(Conversation, conversation_id)


async def participants(session: AsyncSession, conversation_id: uuid.UUID) -> frozenset[str]:
    query = select(ConversationParticipant.enterprise_number).where(
        ConversationParticipant.conversation_id == conversation_id
    )
    return frozenset((await session.execute(query)).scalars())


async def of_dossier(session: AsyncSession, dossier_id: uuid.UUID) -> list[tuple[Conversation, frozenset[str]]]:
    conversations = list(
        (
            await session.execute(
                select(Conversation).where(Conversation.dossier_id == dossier_id).order_by(Conversation.created_at)
            )
        ).scalars()
    )
    return [(c, await participants(session, c.id)) for c in conversations]


async def post(session: AsyncSession, message: Message) -> Message:
    session.add(message)
    await session.flush()
    await session.refresh(message)
    return message


async def messages(session: AsyncSession, conversation_id: uuid.UUID) -> list[Message]:
    query = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
    return list((await session.execute(query)).scalars())


async def read_up_to(session: AsyncSession, conversation_id: uuid.UUID, user_ssin: str) -> int:
    query = select(MessageRead.read_up_to).where(
        MessageRead.conversation_id == conversation_id, MessageRead.user_ssin == user_ssin
    )
    return int((await session.execute(query)).scalar_one_or_none() or 0)


async def mark_read(session: AsyncSession, conversation_id: uuid.UUID, user_ssin: str, seq: int) -> None:
    statement = insert(MessageRead).values(conversation_id=conversation_id, user_ssin=user_ssin, read_up_to=seq)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[MessageRead.conversation_id, MessageRead.user_ssin],
            set_={"read_up_to": statement.excluded.read_up_to},
            where=MessageRead.read_up_to < statement.excluded.read_up_to,
        )
    )


async def message_by_id(session: AsyncSession, message_id: uuid.UUID) -> Message | None:
    return (await session.execute(select(Message).where(Message.id == message_id))).scalar_one_or_none()
