"""Counts behind the anonymous statistics: requests per month (of submission) and classification. No SSIN."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_BY_TYPE_AND_OUTCOME = """
SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, type || '/' || status AS category, count(*) AS n
FROM request WHERE created_at >= :since AND created_at < :until GROUP BY 1, 2
"""
_BY_PARTY = """
SELECT to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, p.enterprise_number AS category, count(*) AS n
FROM request r JOIN addressee p ON p.resource_id = r.id AND p.resource_type = 'request'
WHERE r.created_at >= :since AND r.created_at < :until AND p.enterprise_number = ANY(:parties)
GROUP BY 1, 2
"""


async def by_type_and_outcome(session: AsyncSession, since: datetime, until: datetime) -> Sequence[Any]:
    return (await session.execute(text(_BY_TYPE_AND_OUTCOME), {"since": since, "until": until})).all()


async def by_party(session: AsyncSession, since: datetime, until: datetime, parties: list[str]) -> Sequence[Any]:
    query = text(_BY_PARTY)
    return (await session.execute(query, {"since": since, "until": until, "parties": parties})).all()
