"""Queries of the person-link cache."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.link_cache import PersonLinkCache

_FRESH = select(PersonLinkCache.payload, PersonLinkCache.fetched_at).where(
    PersonLinkCache.source == bindparam("source"),
    PersonLinkCache.subject == bindparam("subject"),
    PersonLinkCache.fetched_at > bindparam("fetched_after"),
)  # built once: this runs for every source of every cold call


async def fresh(
    session: AsyncSession, *, source: str, subject: str, fetched_after: datetime
) -> tuple[Any, datetime] | None:
    """The cached answer and when it was fetched, when that was after ``fetched_after``; else None."""
    row = (
        await session.execute(_FRESH, {"source": source, "subject": subject, "fetched_after": fetched_after})
    ).one_or_none()
    return None if row is None else (row.payload, row.fetched_at)


_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


async def lock(session: AsyncSession, *, source: str, subject: str) -> None:
    """Wait for, then hold until the transaction ends, the lock of one source's answer about one subject: every
    process of every replica that finds the answer cold takes it before asking the source, so one of them asks and
    the others then read what it stored (single flight across processes). The key is a hash: no SSIN in
    ``pg_locks``."""
    await session.execute(_LOCK, {"key": f"rp-api link|{source}|{subject}"})


async def store(session: AsyncSession, *, source: str, subject: str, payload: Any, fetched_at: datetime) -> None:
    statement = insert(PersonLinkCache).values(source=source, subject=subject, payload=payload, fetched_at=fetched_at)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[PersonLinkCache.source, PersonLinkCache.subject],
            set_={"payload": statement.excluded.payload, "fetched_at": statement.excluded.fetched_at},
        )
    )


async def purge_older_than(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(delete(PersonLinkCache).where(PersonLinkCache.fetched_at <= cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def count_older_than(session: AsyncSession, cutoff: datetime) -> int:
    query = select(func.count()).where(PersonLinkCache.fetched_at <= cutoff)
    return int(await session.scalar(query) or 0)
