"""Idempotency keys: per user of an organisation, the first answer's status and the id of what it created — never
the answer itself (a replay reads the resource again through the person guard)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from rp_api.models.base import Base


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_record"

    organisation: Mapped[str] = mapped_column(String(10), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 (hex) of the token's issuer and subject: the key is the user's, not the organisation's."""
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    """SHA-256 of the method, path and canonical body: the same key with another request is refused."""
    status_code: Mapped[int | None] = mapped_column(Integer)
    resource_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    """The resource the first call created (a dossier, form, request, decision round), if it created one."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
