"""Queries of the follow-up of decided trajectories (suivi du trajet) and of the follow-up lists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.dossier import Addressee, Dossier
from rp_api.models.request import Decision, FollowUp, Request


async def lock_request(session: AsyncSession, request_id: uuid.UUID) -> Request | None:
    """The request, locked for the rest of the transaction and read again (two steps recorded at once on one request
    are checked one after the other, each against the other's outcome)."""
    query = select(Request).where(Request.id == request_id).with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def of_request(session: AsyncSession, request_id: uuid.UUID) -> list[FollowUp]:
    """The request's steps in the order they were recorded."""
    query = select(FollowUp).where(FollowUp.request_id == request_id).order_by(FollowUp.recorded_at, FollowUp.id)
    return list((await session.execute(query)).scalars())


async def get(session: AsyncSession, follow_up_id: uuid.UUID) -> FollowUp | None:
    return await session.get(FollowUp, follow_up_id)


async def decision_period(session: AsyncSession, request_id: uuid.UUID) -> tuple[date | None, date | None]:
    """The period INAMI approved for the request ((None, None) when it gave none or did not decide)."""
    query = select(Decision.period_start, Decision.period_end).where(Decision.request_id == request_id)
    row = (await session.execute(query)).one_or_none()
    return (row[0], row[1]) if row is not None else (None, None)


async def add(session: AsyncSession, **values: Any) -> FollowUp:
    """Record a step. Its ``recorded_at`` is the database's clock when it is written (after the request's lock), so
    the order of ``recorded_at`` is the order in which the steps were recorded."""
    query = insert(FollowUp).values(**values, recorded_at=func.clock_timestamp()).returning(FollowUp)
    return (await session.execute(query)).scalar_one()


@dataclass(frozen=True)
class FollowUpLine:
    """A step with what a follow-up list shows of its request (its type; never its health data, which the query does
    not read) and the person's dossier and SSIN."""

    follow_up: FollowUp
    request_type: str
    dossier_id: uuid.UUID
    ssin: str


async def page(
    session: AsyncSession,
    *,
    party: str | None,
    occurred_from: date | None,
    occurred_to: date | None,
    changed_since: datetime | None,
    after: tuple[date, uuid.UUID] | tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[FollowUpLine]:
    """Steps of the requests addressed to ``party`` (every request: None, INAMI), one query, keyset pages: in
    (occurred_on, id) order for a range of dates, in (recorded_at, id) order with ``changed_since`` (recorded at or
    after that moment)."""
    by_recording = changed_since is not None
    key = (FollowUp.recorded_at, FollowUp.id) if by_recording else (FollowUp.occurred_on, FollowUp.id)
    query = (
        select(FollowUp, Request.type, Request.dossier_id, Dossier.ssin)
        .join(Request, Request.id == FollowUp.request_id)
        .join(Dossier, Dossier.id == Request.dossier_id)
        .order_by(*key)
        .limit(limit)
    )
    if party is not None:
        query = query.join(
            Addressee, and_(Addressee.resource_id == FollowUp.request_id, Addressee.enterprise_number == party)
        )
    if occurred_from is not None:
        query = query.where(FollowUp.occurred_on >= occurred_from)
    if occurred_to is not None:
        query = query.where(FollowUp.occurred_on <= occurred_to)
    if changed_since is not None:
        query = query.where(FollowUp.recorded_at >= changed_since)
    if after is not None:
        query = query.where(tuple_(*key) > after)
    return [FollowUpLine(*row) for row in (await session.execute(query)).all()]
