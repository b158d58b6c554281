"""Queries of the person-link cache."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.link_cache import PersonLinkCache


async def fresh(session: AsyncSession, *, source: str, subject: str, fetched_after: datetime) -> Any | None:
    """The cached answer when it was fetched after ``fetched_after``, else None."""
    query = select(PersonLinkCache.payload).where(
        PersonLinkCache.source == source,
        PersonLinkCache.subject == subject,
        PersonLinkCache.fetched_at > fetched_after,
    )
    return (await session.execute(query)).scalar_one_or_none()


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
