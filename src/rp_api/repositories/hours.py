"""Queries of hours reports (relevé des heures prestées) and the hours lists per party (a list for one organisation:
the lines of the requests addressed to it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import and_, exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from rp_api.models.dossier import Addressee, Dossier
from rp_api.models.request import HoursReport, Request


async def current_hours(
    session: AsyncSession, request_id: uuid.UUID, training_id: str, month: str
) -> HoursReport | None:
    """The current (latest) version of one training's hours in one month, if any was reported."""
    query = (
        select(HoursReport)
        .where(HoursReport.request_id == request_id, HoursReport.training_id == training_id, HoursReport.month == month)
        .order_by(HoursReport.version.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def add_hours(session: AsyncSession, reports: list[HoursReport]) -> None:
    session.add_all(reports)
    await session.flush()


@dataclass(frozen=True)
class HoursLine:
    """The current version of one training's hours in one month, with the person's dossier and SSIN (what an hours
    list shows: no column of the request, so no health data, is read)."""

    report: HoursReport
    dossier_id: uuid.UUID
    ssin: str


async def hours_page(
    session: AsyncSession,
    *,
    party: str | None,
    first: str,
    last: str,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[HoursLine]:
    """Current versions of the months ``first`` to ``last`` (both included), for one party (an addressee of the
    request) or all of them (INAMI); keyset pages in (month, id) order on ``ix_hours_report_month_id``; one query.

    A version is current when no later version of the same request, training and month exists (looked up on
    ``ix_hours_report_current``)."""
    later = aliased(HoursReport)
    superseded = exists().where(
        later.request_id == HoursReport.request_id,
        later.training_id == HoursReport.training_id,
        later.month == HoursReport.month,
        later.version > HoursReport.version,
    )
    query = (
        select(HoursReport, Request.dossier_id, Dossier.ssin)
        .join(Request, Request.id == HoursReport.request_id)
        .join(Dossier, Dossier.id == Request.dossier_id)
        .where(HoursReport.month >= first, HoursReport.month <= last, ~superseded)
        .order_by(HoursReport.month, HoursReport.id)
        .limit(limit)
    )
    if party is not None:  # the primary key (resource_id, enterprise_number): one addressee row at most
        query = query.join(
            Addressee, and_(Addressee.resource_id == HoursReport.request_id, Addressee.enterprise_number == party)
        )
    if after is not None:  # a row comparison: the (month, id) index bounds the scan with it
        query = query.where(tuple_(HoursReport.month, HoursReport.id) > after)
    return [HoursLine(*row) for row in (await session.execute(query)).all()]
