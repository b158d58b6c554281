"""The change feed of an organisation: positions are opaque, stable and resumable."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import cursors
from rp_api.authz.principal import Principal
from rp_api.domain.policy import PHYSICIAN_ROLES
from rp_api.repositories import feed
from rp_api.schemas.conversation import EventOut, EventPage

START = "0"


def decode(position: str) -> tuple[int, int]:
    if position == START:
        return 0, 0
    xid, seq = cursors.decode(position, int, int, where="query", name="after")
    return int(xid), int(seq)


async def page(session: AsyncSession, principal: Principal, after: str, *, limit: int, self_link: str) -> EventPage:
    position = decode(after)
    events = await feed.after(
        session,
        principal.enterprise_number,
        position,
        limit=limit,
        medical=not principal.roles.isdisjoint(PHYSICIAN_ROLES),
    )
    items = [
        EventOut(
            position=cursors.encode(e.xid, e.seq),
            kind=e.kind,
            dossier_id=e.dossier_id,
            resource_id=e.resource_id,
            occurred_at=e.occurred_at,
        )
        for e in events
    ]
    return EventPage(items=items, self_=self_link, next=items[-1].position if items else after)
