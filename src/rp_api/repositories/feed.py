"""Queries of the change feed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.conversation import FeedEvent

# Only transactions older than every one still running are read: an event committed late can never be skipped.
# Ordered by the xid8 value it filters on (feed_event.xid, the column): an output alias of the same name would win
# in ORDER BY, and its text sorts "10" before "9", which lost and repeated events once ids crossed a power of ten.
_AFTER = """
SELECT feed_event.seq, feed_event.xid::text AS xid_text, feed_event.kind, feed_event.dossier_id,
       feed_event.resource_id, feed_event.occurred_at
FROM feed_event
WHERE feed_event.organisation = :organisation
  AND feed_event.xid < pg_snapshot_xmin(pg_current_snapshot())
  AND (feed_event.xid, feed_event.seq) > (CAST(CAST(:xid AS text) AS xid8), :seq)
  AND (:medical OR NOT feed_event.medical)
ORDER BY feed_event.xid, feed_event.seq
LIMIT :limit
"""


@dataclass(frozen=True)
class Event:
    seq: int
    xid: int
    kind: str
    dossier_id: uuid.UUID
    resource_id: uuid.UUID
    occurred_at: datetime


async def publish(
    session: AsyncSession,
    organisations: Iterable[str],
    *,
    kind: str,
    dossier_id: uuid.UUID,
    resource_id: uuid.UUID,
    medical: bool = False,
) -> None:
    rows = [
        {"organisation": o, "kind": kind, "dossier_id": dossier_id, "resource_id": resource_id, "medical": medical}
        for o in sorted(set(organisations))
    ]
    if rows:
        await session.execute(insert(FeedEvent), rows)


async def after(
    session: AsyncSession, organisation: str, position: tuple[int, int], *, limit: int, medical: bool
) -> list[Event]:
    result = await session.execute(
        text(_AFTER),
        {"organisation": organisation, "xid": str(position[0]), "seq": position[1], "medical": medical, "limit": limit},
    )
    return [
        Event(row.seq, int(row.xid_text), row.kind, row.dossier_id, row.resource_id, row.occurred_at) for row in result
    ]
