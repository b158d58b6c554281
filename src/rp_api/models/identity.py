"""The person's identity over time: SSIN replacements the National Register reported, and dossiers merged because
two of them turned out to be one person's."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from rp_api.models.base import Base


class SsinReplacement(Base):
    """One SSIN the National Register reported as replaced by another (historique des NISS, deliberation 26/060 §7):
    the dossier moved to the new one; a call naming the old one is led to it. Chains (A → B → C) are rows in turn."""

    __tablename__ = "ssin_replacement"
    __table_args__ = (Index("ix_ssin_replacement_new_ssin", "new_ssin"),)

    old_ssin: Mapped[str] = mapped_column(String(11), primary_key=True)
    new_ssin: Mapped[str] = mapped_column(String(11))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    trace_id: Mapped[str] = mapped_column(String(36))
    """The call during which the replacement was first seen."""


class DossierMerge(Base):
    """A dossier absorbed into another when both SSINs of a replacement had one: everything it held moved to the
    survivor; its id still leads there."""

    __tablename__ = "dossier_merge"
    __table_args__ = (Index("ix_dossier_merge_survivor", "survivor_dossier_id"),)

    absorbed_dossier_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    survivor_dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    absorbed_ssin: Mapped[str] = mapped_column(String(11))
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    trace_id: Mapped[str] = mapped_column(String(36))
