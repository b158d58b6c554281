"""Conversations, their participants and messages, read marks, and the change feed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Identity, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from rp_api.models.base import Base


class Conversation(Base):
    __tablename__ = "conversation"
    __table_args__ = (Index("ix_conversation_dossier", "dossier_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    medical: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ConversationParticipant(Base):
    __tablename__ = "conversation_participant"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), primary_key=True
    )
    enterprise_number: Mapped[str] = mapped_column(String(10), primary_key=True)


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (Index("ix_message_conversation", "conversation_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, default=uuid.uuid4)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    author_name: Mapped[str] = mapped_column(String(200))
    author_organisation: Mapped[str] = mapped_column(String(10))
    author_role: Mapped[str] = mapped_column(String(40))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MessageRead(Base):
    """How far a user has read a conversation."""

    __tablename__ = "message_read"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), primary_key=True
    )
    user_ssin: Mapped[str] = mapped_column(String(11), primary_key=True)
    read_up_to: Mapped[int] = mapped_column(BigInteger)


class Xid8(UserDefinedType[int]):
    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


class FeedEvent(Base):
    """One event for one organisation: ids only, never personal content.

    ``xid`` is the writing transaction's id: a reader returns only events of transactions older than every one still
    running, ordered by (xid, seq), so a consumer sees each event exactly once and in order, whatever commits late.
    """

    __tablename__ = "feed_event"
    __table_args__ = (
        Index("ix_feed_event_organisation_position", "organisation", "xid", "seq"),
        Index("ix_feed_event_dossier", "dossier_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    xid: Mapped[int] = mapped_column(Xid8, server_default=text("pg_current_xact_id()"))
    organisation: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(32))
    medical: Mapped[bool] = mapped_column(Boolean, default=False)
    dossier_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    resource_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


ischema_names["xid8"] = Xid8  # so that reflection (and the schema drift test) knows the type
