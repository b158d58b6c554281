"""Dossiers (dossier de communication) and the organisations taking part in them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rp_api.models.base import Base


class Dossier(Base):
    __tablename__ = "dossier"
    __table_args__ = (Index("ix_dossier_updated_at_id", "updated_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    ssin: Mapped[str] = mapped_column(String(11), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Optimistic concurrency: every UPDATE checks the version it read (the ETag); a stale one fails.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    participants: Mapped[list[DossierParticipant]] = relationship(lazy="raise", back_populates="dossier")


class DossierParticipant(Base):
    """An organisation that takes part in a dossier (opened it, wrote in it, or is addressed by it)."""

    __tablename__ = "dossier_participant"
    __table_args__ = (Index("ix_dossier_participant_organisation", "enterprise_number", "dossier_id"),)

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True)
    enterprise_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    dossier: Mapped[Dossier] = relationship(lazy="raise", back_populates="participants")
