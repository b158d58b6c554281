"""The audit log (logging): one record per person per call, append-only, keyed and hash-chained, partitioned by
month.

Records are spread over ``AUDIT_CHAINS`` independent hash chains; a writer takes whichever chain head is free
(``FOR UPDATE SKIP LOCKED``), so concurrent requests never queue behind one lock, and each chain is verifiable on
its own. Each record carries the MAC of its content under a key the database never holds (``key_id``, ``mac``)
and its link in the chain (``prev_hash``, ``hash``): see :mod:`rp_api.audit_chain`.

The runtime role may only SELECT these tables and call ``rp_audit_append`` and ``rp_audit_upkeep`` (SECURITY
DEFINER functions of the owner role); the database also refuses UPDATE, DELETE and TRUNCATE (triggers, on every
partition); retention drops whole monthly partitions, none younger than ``audit_retention``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import BigInteger

from rp_api.models.base import Base

AUDIT_CHAINS = 16


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_person_time", "person_ssin", "occurred_at"),
        Index("ix_audit_event_organisation_time", "organisation", "occurred_at"),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    # The natural key: a record is the seq-th of its chain (the partition key has to be part of it too).
    chain_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    trace_id: Mapped[str] = mapped_column(String(36))
    # who
    user_ssin: Mapped[str] = mapped_column(String(11))
    organisation: Mapped[str] = mapped_column(String(10))
    organisation_type: Mapped[str] = mapped_column(String(32))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    # what
    operation: Mapped[str] = mapped_column(String(80))
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    # whom
    person_ssin: Mapped[str] = mapped_column(String(11))
    # outcome
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(40))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(SmallInteger)
    """The HTTP status the caller got (NULL on records written before it was recorded)."""
    # keyed chain
    key_id: Mapped[str | None] = mapped_column(String(32))
    """The id of the key the MAC is under (NULL: a legacy record, written before the log was keyed)."""
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditChainHead(Base):
    __tablename__ = "audit_chain_head"

    chain_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """The time of the chain's latest record: no record goes on a chain whose latest record is of a later month."""
    legacy_until: Mapped[int] = mapped_column(BigInteger)
    """The last seq of the chain written before the log was keyed (records up to it have no MAC)."""


class AuditChainAnchor(Base):
    """Where a chain resumes after retention dropped its oldest records: the last dropped seq and its hash."""

    __tablename__ = "audit_chain_anchor"

    chain_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    dropped_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRetention(Base):
    """The retention the database itself enforces: ``rp_audit_upkeep`` drops no partition younger than ``months``
    (set by ``rp-api migrate`` from RP_AUDIT_RETENTION_MONTHS; the runtime role cannot change it). One row."""

    __tablename__ = "audit_retention"
    __table_args__ = (CheckConstraint("id", name="single_row"), CheckConstraint("months >= 1", name="months"))

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=true())
    months: Mapped[int] = mapped_column(Integer)
