"""The change feed of an organisation: positions are opaque, stable and resumable.

Every item is re-checked when the feed is read: its person goes through the guard with the caller's current links
(one audit record per person of the page); an item whose person the caller may no longer see is left out, and
the page's ``next`` still moves past it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import cursors
from rp_api.authz.person_guard import PersonGuard
from rp_api.domain.policy import PHYSICIAN_ROLES, Action
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import feed
from rp_api.schemas.conversation import EventOut, EventPage

START = "0"


def decode(position: str) -> tuple[int, int]:
    if position == START:
        return 0, 0
    xid, seq = cursors.decode(position, int, int, where="query", name="after")
    return int(xid), int(seq)


async def page(session: AsyncSession, guard: PersonGuard, after: str, *, limit: int, self_link: str) -> EventPage:
    principal = guard.principal
    position = decode(after)
    events = await feed.after(
        session,
        principal.enterprise_number,
        position,
        limit=limit,
        medical=not principal.roles.isdisjoint(PHYSICIAN_ROLES),
    )
    persons = await dossier_repository.ssins_of(session, (e.dossier_id for e in events))
    granted = await guard.sift(
        [(persons[e.dossier_id], str(e.dossier_id)) for e in events if e.dossier_id in persons],
        Action.CONSULT_DOSSIER,
        operation="readEvents",
        resource_type="dossier",
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
        if persons.get(e.dossier_id) in granted
    ]
    last = cursors.encode(events[-1].xid, events[-1].seq) if events else after
    return EventPage(items=items, self_=self_link, next=last)
