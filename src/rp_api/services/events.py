"""The change feed of an organisation: positions are opaque, stable and resumable."""

from __future__ import annotations

import base64

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.principal import Principal
from rp_api.domain.policy import PHYSICIAN_ROLES
from rp_api.problems import INVALID_INPUT, BadRequest, InputIssue
from rp_api.repositories import feed
from rp_api.schemas.conversation import EventOut, EventPage

START = "0"


def encode(xid: int, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{xid}.{seq}".encode()).decode().rstrip("=")


def decode(position: str) -> tuple[int, int]:
    if position == START:
        return 0, 0
    try:
        xid, seq = base64.urlsafe_b64decode(position + "=" * (-len(position) % 4)).decode().split(".")
        return int(xid), int(seq)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(
            [InputIssue(INVALID_INPUT, "Invalid position", "use 0 or a position of the feed", "query", "after")]
        ) from None


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
            position=encode(e.xid, e.seq),
            kind=e.kind,
            dossier_id=e.dossier_id,
            resource_id=e.resource_id,
            occurred_at=e.occurred_at,
        )
        for e in events
    ]
    return EventPage(items=items, self_=self_link, next=items[-1].position if items else after)
