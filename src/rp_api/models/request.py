"""Requests (training or coaching), INAMI's decisions and decision rounds, hours."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from rp_api.models.base import Base


class Request(Base):
    __tablename__ = "request"
    __table_args__ = (
        Index("ix_request_dossier", "dossier_id", "created_at"),
        Index("ix_request_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    registration_form_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("registration_form.id"))
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    requester_organisation: Mapped[str] = mapped_column(String(10))
    requester_type: Mapped[str] = mapped_column(String(32))
    requester_role: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # content
    training_project: Mapped[str | None] = mapped_column(Text)
    trainings: Mapped[Any] = mapped_column(JSONB, default=list)
    total_cost: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    insurer_contacts: Mapped[Any] = mapped_column(JSONB, default=dict)
    reference_advisor: Mapped[Any] = mapped_column(JSONB, nullable=True)
    # insurer validation (validation par l'OA)
    validated: Mapped[bool | None] = mapped_column(Boolean)
    validation_motivation: Mapped[str | None] = mapped_column(Text)
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # health data, physicians only
    medical_information: Mapped[str | None] = mapped_column(Text)
    medical_advice: Mapped[str | None] = mapped_column(Text)
    # the medical inspector's non-medical conclusion for the social expert (not health data)
    medical_conclusion: Mapped[str | None] = mapped_column(String(32))
    """compatible, notCompatible or compatibleWithConditions."""
    conclusion_remarks: Mapped[str | None] = mapped_column(Text)
    # a trajectory's extension (prolongation) is a new request linked to the decided one it extends
    extends_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("request.id"))


class RequestRevision(Base):
    """The content a request had before an amendment (its requester changed dates, trainings or costs before INAMI
    decided): every earlier version is kept, the request itself always holds the latest."""

    __tablename__ = "request_revision"

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[Any] = mapped_column(JSONB)
    """The amended fields as they were in this version (training project, trainings, total cost, validation)."""
    amended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    amended_by: Mapped[str] = mapped_column(String(10))


class DecisionRound(Base):
    """A weekly round of INAMI decisions (décisions hebdomadaires), recorded all at once."""

    __tablename__ = "decision_round"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    week: Mapped[str] = mapped_column(String(8))
    recorded_by: Mapped[str] = mapped_column(String(10))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Decision(Base):
    __tablename__ = "decision"
    __table_args__ = (
        Index("ix_decision_week", "week", "decided_at", "id"),
        Index("ix_decision_decided_at_id", "decided_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), unique=True)
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision_round.id"))
    week: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(16))
    approved_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    motivation: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HoursReport(Base):
    """Hours performed in one training in one month; a correction is a new version, the old ones are kept."""

    __tablename__ = "hours_report"
    __table_args__ = (
        Index("ix_hours_report_current", "request_id", "training_id", "month", "version", unique=True),
        Index("ix_hours_report_month_id", "month", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"))
    training_id: Mapped[str] = mapped_column(String(36))
    month: Mapped[str] = mapped_column(String(7))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    version: Mapped[int] = mapped_column(Integer)
    reported_by: Mapped[str] = mapped_column(String(10))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FollowUp(Base):
    """One step of a decided trajectory as the party that runs it records it (suivi du trajet, deliberation 26/060
    §48): started, interrupted (a non-medical reason), resumed, ended, with its result. Coded values only: no free
    text, so that no health data can slip in."""

    __tablename__ = "follow_up"
    __table_args__ = (
        Index("ix_follow_up_request", "request_id", "occurred_on"),
        Index("ix_follow_up_occurred_on_id", "occurred_on", "id"),
        Index("ix_follow_up_recorded_at_id", "recorded_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"))
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))
    """started, interrupted, resumed or ended."""
    occurred_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(40))
    """For an interruption: a coded, non-medical reason."""
    result: Mapped[str | None] = mapped_column(String(40))
    """For an end: workResumedSameEmployer, workResumedOtherEmployer, trainingContinued, noResult…"""
    recorded_by: Mapped[str] = mapped_column(String(10))
    recorded_by_role: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
