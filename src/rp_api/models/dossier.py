"""Dossiers (dossier de communication) and the organisations taking part in them."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rp_api.models.base import Base


class Dossier(Base):
    __tablename__ = "dossier"
    __table_args__ = (Index("ix_dossier_updated_at_id", "updated_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    ssin: Mapped[str] = mapped_column(String(11), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    """``active`` while a form or request is open, ``closed`` when the trajectory ended or its insurer or INAMI
    closed it (see :mod:`rp_api.domain.dossiers`)."""
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(10))
    """The organisation that closed the dossier explicitly (None when it closed because its trajectory ended)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Optimistic concurrency: every UPDATE checks the version it read (the ETag); a stale one fails.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    participants: Mapped[list[DossierParticipant]] = relationship(lazy="raise", back_populates="dossier")


class DossierParticipant(Base):
    """An organisation that takes part in a dossier (opened it, wrote in it, or is addressed by one of its items)."""

    __tablename__ = "dossier_participant"
    __table_args__ = (Index("ix_dossier_participant_organisation", "enterprise_number", "dossier_id"),)

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True)
    enterprise_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    dossier: Mapped[Dossier] = relationship(lazy="raise", back_populates="participants")


class Addressee(Base):
    """An organisation a registration form or a request is addressed to (destinataire): the item is in its work
    lists and its feed tells it of the item's changes. Computed from the person's links (insurer, regional services)
    and the item's own parties each time the item changes; every list and feed re-checks the person's *current*
    links, so an addressee that lost its link sees nothing."""

    __tablename__ = "addressee"
    __table_args__ = (
        Index("ix_addressee_organisation", "enterprise_number", "resource_type", "resource_id"),
        Index("ix_addressee_dossier", "dossier_id"),
    )

    resource_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    enterprise_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(24))
    """``registrationForm`` or ``request``."""
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Consent(Base):
    """The person's consent as the dossier records it (formulaire de consentement, deliberation 26/060 §63): what
    needs it is refused until a consent of its scope is in force (recorded, not withdrawn)."""

    __tablename__ = "consent"
    __table_args__ = (
        Index("ix_consent_dossier", "dossier_id", "scope"),
        Index("ux_consent_in_force", "dossier_id", "scope", unique=True, postgresql_where=text("withdrawn_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(40))
    form_version: Mapped[str] = mapped_column(String(40))
    """The version of the consent form the person signed."""
    given_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recorded_by_organisation: Mapped[str] = mapped_column(String(10))
    recorded_by_role: Mapped[str] = mapped_column(String(40))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by_organisation: Mapped[str | None] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
