"""Queries of requests and decisions (a list for one organisation: the requests addressed to it; hours are in
:mod:`rp_api.repositories.hours`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.dossier import Addressee, Dossier
from rp_api.models.request import Decision, DecisionRound, Request, RequestRevision


async def add(session: AsyncSession, request: Request) -> Request:
    session.add(request)
    await session.flush()
    await session.refresh(request)
    return request


async def get(session: AsyncSession, request_id: uuid.UUID) -> Request | None:
    return await session.get(Request, request_id)


async def many(
    session: AsyncSession, request_ids: Sequence[uuid.UUID], *, lock: bool = True
) -> dict[uuid.UUID, tuple[Request, str]]:
    """Requests by id, each with its person's SSIN; locked for the rest of the transaction unless ``lock`` is off.
    Locked, they are read afresh (``populate_existing``): an unlocked read earlier in the call (to name the persons
    for the guard) must not leave the states checked after locking as they were before another call changed them."""
    query = (
        select(Request, Dossier.ssin).join(Dossier, Dossier.id == Request.dossier_id).where(Request.id.in_(request_ids))
    )
    if lock:
        query = query.with_for_update(of=Request).execution_options(populate_existing=True)
    return {request.id: (request, ssin) for request, ssin in (await session.execute(query)).all()}


async def extensions_of(session: AsyncSession, request: Request) -> list[uuid.UUID]:
    """The ids of the requests that extend this one, oldest first (an extension is in its dossier: the dossier's
    index bounds the scan)."""
    query = (
        select(Request.id)
        .where(Request.dossier_id == request.dossier_id, Request.extends_request_id == request.id)
        .order_by(Request.created_at, Request.id)
    )
    return list((await session.execute(query)).scalars())


async def add_revision(session: AsyncSession, revision: RequestRevision) -> None:
    session.add(revision)
    await session.flush()


async def revisions_of(session: AsyncSession, request_id: uuid.UUID) -> list[RequestRevision]:
    """The content a request had before each of its amendments, oldest first."""
    query = select(RequestRevision).where(RequestRevision.request_id == request_id).order_by(RequestRevision.version)
    return list((await session.execute(query)).scalars())


async def decisions_of(session: AsyncSession, request_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Decision]:
    if not request_ids:
        return {}
    query = select(Decision).where(Decision.request_id.in_(request_ids))
    return {decision.request_id: decision for decision in (await session.execute(query)).scalars()}


async def round_with_persons(
    session: AsyncSession, round_id: uuid.UUID
) -> tuple[DecisionRound, list[tuple[Decision, str]]] | None:
    """A recorded round with its decisions, each with its person's SSIN."""
    found = await session.get(DecisionRound, round_id)
    if found is None:
        return None
    query = (
        select(Decision, Dossier.ssin)
        .join(Request, Request.id == Decision.request_id)
        .join(Dossier, Dossier.id == Request.dossier_id)
        .where(Decision.round_id == round_id)
        .order_by(Decision.id)
    )
    return found, [(decision, ssin) for decision, ssin in (await session.execute(query)).all()]


async def add_round(session: AsyncSession, decision_round: DecisionRound, decisions: list[Decision]) -> None:
    session.add(decision_round)
    await session.flush()
    session.add_all(decisions)
    await session.flush()


@dataclass(frozen=True)
class DecisionLine:
    """A decision with what a decision list shows of its request (never the request's health data, which the
    query does not even read) and the person's dossier and SSIN."""

    decision: Decision
    request_type: str
    dossier_id: uuid.UUID
    ssin: str
    training_project: str | None
    trainings: list[dict[str, Any]]
    total_cost: Decimal
    extends_request_id: uuid.UUID | None
    """Set on the decision on an extension (prolongation): the request it extends."""


async def decision_page(
    session: AsyncSession,
    *,
    party: str | None,
    week: str | None,
    decided_from: date | None,
    decided_to: date | None,
    changed_since: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[DecisionLine]:
    """Decisions with their request's list columns, dossier and SSIN, for one party or all of them (INAMI); keyset
    pages in (decided_at, id) order; one query. ``changed_since``: decided at or after that moment."""
    query = (
        select(
            Decision,
            Request.type,
            Request.dossier_id,
            Dossier.ssin,
            Request.training_project,
            Request.trainings,
            Request.total_cost,
            Request.extends_request_id,
        )
        .join(Request, Request.id == Decision.request_id)
        .join(Dossier, Dossier.id == Request.dossier_id)
        .order_by(Decision.decided_at, Decision.id)
        .limit(limit)
    )
    if party is not None:
        query = query.join(
            Addressee, and_(Addressee.resource_id == Decision.request_id, Addressee.enterprise_number == party)
        )
    if week is not None:
        query = query.where(Decision.week == week)
    if decided_from is not None:
        query = query.where(func.date(Decision.decided_at) >= decided_from)
    if decided_to is not None:
        query = query.where(func.date(Decision.decided_at) <= decided_to)
    if changed_since is not None:
        query = query.where(Decision.decided_at >= changed_since)
    if after is not None:  # a row comparison: an index on (…, decided_at, id) bounds the scan with it
        query = query.where(tuple_(Decision.decided_at, Decision.id) > after)
    return [DecisionLine(*row) for row in (await session.execute(query)).all()]
