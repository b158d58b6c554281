"""Registration forms (formulaire d'inscription, AMF)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from rp_api.models.base import Base


class RegistrationForm(Base):
    __tablename__ = "registration_form"
    __table_args__ = (
        Index("ix_registration_form_dossier", "dossier_id", "created_at"),
        Index("ix_registration_form_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    routing: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Optimistic concurrency: every UPDATE checks the version it read (the ETag); a stale one fails.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    created_by_organisation: Mapped[str] = mapped_column(String(10))
    created_by_type: Mapped[str] = mapped_column(String(32))
    created_by_role: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # content (deliberation, point 52)
    expectations: Mapped[str | None] = mapped_column(Text)
    work_problems: Mapped[str | None] = mapped_column(Text)
    incapacity_start_date: Mapped[date | None] = mapped_column(Date)
    insurer_contacts: Mapped[Any] = mapped_column(JSONB, default=dict)
    occupational_physician_name: Mapped[str | None] = mapped_column(String(200))
    question_expectations: Mapped[str | None] = mapped_column(Text)
    question_functional_capacities: Mapped[str | None] = mapped_column(Text)
    # routing C
    in_target_group: Mapped[bool | None] = mapped_column(Boolean)
    target_group_motivation: Mapped[str | None] = mapped_column(Text)
    target_group_decided_by: Mapped[str | None] = mapped_column(String(10))
    target_group_decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
