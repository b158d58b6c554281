"""The person-link cache (access-management data): one row per source and subject (an SSIN, or an employer's
enterprise number for SEED-Connect), reused for at most 24 hours, then purged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from rp_api.models.base import Base


class PersonLinkCache(Base):
    __tablename__ = "person_link_cache"
    __table_args__ = (Index("ix_person_link_cache_fetched_at", "fetched_at"),)

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[Any] = mapped_column(JSONB)
