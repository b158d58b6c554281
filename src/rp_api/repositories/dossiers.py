"""Queries of dossiers and their participants."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, null, or_, select, union_all, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from rp_api.domain import dossiers as life
from rp_api.domain.dossiers import DossierStatus
from rp_api.domain.follow_up import FollowUpEvent
from rp_api.models.dossier import Dossier, DossierParticipant
from rp_api.models.identity import DossierMerge
from rp_api.models.registration_form import RegistrationForm
from rp_api.models.request import Decision, FollowUp, Request
from rp_api.repositories.driver import detached, driver_of, row_of


async def survivor_of(session: AsyncSession, dossier_id: uuid.UUID) -> uuid.UUID | None:
    """The dossier that absorbed this one when two dossiers of one person were merged (its id leads there), or
    None (:mod:`rp_api.services.identity`)."""
    query = select(DossierMerge.survivor_dossier_id).where(DossierMerge.absorbed_dossier_id == dossier_id)
    found: uuid.UUID | None = (await session.execute(query)).scalar_one_or_none()
    return found


async def get(session: AsyncSession, dossier_id: uuid.UUID) -> Dossier | None:
    """The dossier; for the id of a dossier absorbed in a merge, the one that absorbed it."""
    found = await session.get(Dossier, dossier_id)
    if found is not None:
        return found
    survivor = await survivor_of(session, dossier_id)
    return None if survivor is None else await session.get(Dossier, survivor)


async def ssins_of(session: AsyncSession, dossier_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The person (SSIN) of each dossier that still exists, or that was absorbed into one that does (its events
    and idempotency records still name it)."""
    wanted = list(set(dossier_ids))
    if not wanted:
        return {}
    query = union_all(
        select(Dossier.id, Dossier.ssin).where(Dossier.id.in_(wanted)),
        select(DossierMerge.absorbed_dossier_id, Dossier.ssin)
        .join(Dossier, Dossier.id == DossierMerge.survivor_dossier_id)
        .where(DossierMerge.absorbed_dossier_id.in_(wanted)),
    )
    return {dossier_id: ssin for dossier_id, ssin in (await session.execute(query)).all()}


@dataclass(frozen=True)
class DossierContents:
    dossier: Dossier
    forms: list[RegistrationForm]
    """Oldest first, all of them (drafts included): what the caller may read is the service's to decide."""
    requests: list[Request]
    """Oldest first."""
    decisions: dict[uuid.UUID, Decision]
    """INAMI's decision on each decided request, by request id."""


_CONTENTS = f"""
SELECT {row_of(Dossier, "d")} AS dossier,
    ARRAY(SELECT {row_of(RegistrationForm, "f")} FROM registration_form f WHERE f.dossier_id = d.id
          ORDER BY f.created_at, f.id) AS forms,
    ARRAY(SELECT {row_of(Request, "r")} FROM request r WHERE r.dossier_id = d.id
          ORDER BY r.created_at, r.id) AS requests,
    ARRAY(SELECT {row_of(Decision, "x")} FROM decision x JOIN request r ON r.id = x.request_id
          WHERE r.dossier_id = d.id) AS decisions
FROM dossier d WHERE d.id = $1
"""  # noqa: S608 - column names from the models, no input


async def with_contents(session: AsyncSession, dossier_id: uuid.UUID) -> DossierContents | None:
    """The dossier, its forms, its requests and their decisions in one round trip on the driver (the hot path of a
    dossier GET), as detached copies for reading; for the id of a dossier absorbed in a merge, the one that
    absorbed it."""
    row = await (await driver_of(session)).fetchrow(_CONTENTS, dossier_id)
    if row is None:
        survivor = await survivor_of(session, dossier_id)
        row = None if survivor is None else await (await driver_of(session)).fetchrow(_CONTENTS, survivor)
    if row is None:
        return None
    decisions = [detached(Decision, record) for record in row["decisions"]]
    return DossierContents(
        dossier=detached(Dossier, row["dossier"]),
        forms=[detached(RegistrationForm, record) for record in row["forms"]],
        requests=[detached(Request, record) for record in row["requests"]],
        decisions={decision.request_id: decision for decision in decisions},
    )


async def of_person(session: AsyncSession, ssin: str) -> Dossier | None:
    """The person's dossier, if there is one (a lookup: never creates one)."""
    return (await session.execute(select(Dossier).where(Dossier.ssin == ssin))).scalar_one_or_none()


async def open_for(session: AsyncSession, ssin: str) -> tuple[Dossier, bool]:
    """The person's dossier, created when there is none (concurrent openers get the same one); only for a caller
    that starts a trajectory (:mod:`rp_api.domain.dossier_creation`)."""
    created = (
        await session.execute(
            insert(Dossier)
            .values(id=uuid.uuid4(), ssin=ssin, status="active", version=1)
            .on_conflict_do_nothing(index_elements=[Dossier.ssin])
            .returning(Dossier.id)
        )
    ).scalar_one_or_none()
    dossier = (await session.execute(select(Dossier).where(Dossier.ssin == ssin))).scalar_one()
    return dossier, created is not None


async def join(session: AsyncSession, dossier_id: uuid.UUID, enterprise_number: str) -> None:
    await session.execute(
        insert(DossierParticipant)
        .values(dossier_id=dossier_id, enterprise_number=enterprise_number)
        .on_conflict_do_nothing()
    )


def _items_keep_active(dossier_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL of :func:`rp_api.domain.dossiers.trajectory_status` for one dossier: true while one of its forms or
    requests is open, or when it has none yet (an approved request is open until its follow-up records ``ended``:
    one probe of ``ix_follow_up_request`` per approved request)."""
    form, request, on_form, step = (
        aliased(RegistrationForm, name="f"),
        aliased(Request, name="r"),
        aliased(Request, name="rf"),
        aliased(FollowUp, name="fu"),
    )
    requested = exists().where(on_form.dossier_id == dossier_id, on_form.registration_form_id == form.id)
    open_form = exists().where(
        form.dossier_id == dossier_id,
        or_(
            form.status.in_(sorted(life.FORM_OPEN)),
            and_(form.status.in_(sorted(life.FORM_OPEN_UNTIL_REQUESTED)), ~requested),
        ),
    )
    ended = exists().where(step.request_id == request.id, step.event == FollowUpEvent.ENDED.value)
    open_request = exists().where(
        request.dossier_id == dossier_id,
        or_(
            request.status.in_(sorted(life.REQUEST_OPEN)),
            and_(request.status.in_(sorted(life.REQUEST_OPEN_UNTIL_ENDED)), ~ended),
        ),
    )
    any_form = exists().where(form.dossier_id == dossier_id)
    any_request = exists().where(request.dossier_id == dossier_id)
    return or_(open_form, open_request, ~or_(any_form, any_request))


async def touch(session: AsyncSession, dossier_id: uuid.UUID, *, new_item: bool = False) -> None:
    """Something changed in the dossier: it moves up in every participant's modifiedSince query, and its status is
    recomputed from its forms' and requests' states (:func:`rp_api.domain.dossiers.after_change`, in the same
    UPDATE). ``new_item``: a form or request was created in it, which lifts an explicit close.

    ``closed_at`` is when the dossier closed (kept while it stays closed, cleared when it is active again);
    ``closed_by`` the organisation that closed it explicitly, kept until a new item reopens it."""
    if session.new or session.dirty or session.deleted:
        # The items' new states must be in the database before they are read (the sessions do not autoflush).
        await session.flush()
    items = (
        select(literal(dossier_id, Dossier.id.type).label("dossier_id"), _items_keep_active(dossier_id).label("active"))
        .cte("items")
        .prefix_with("MATERIALIZED")
    )  # computed once, read by two columns
    active_by_items = case((items.c.active, DossierStatus.ACTIVE.value), else_=DossierStatus.CLOSED.value)
    values: dict[str, Any] = {"updated_at": func.clock_timestamp(), "version": Dossier.version + 1}
    if new_item:
        # A new form or request lifts an explicit close: the items alone decide.
        values["status"] = active_by_items
        values["closed_at"] = case((items.c.active, null()), else_=func.clock_timestamp())
        values["closed_by"] = None
    else:
        # Closed explicitly (closed_by kept): closed whatever the items say.
        explicitly_closed = Dossier.closed_by.is_not(None)
        values["status"] = case((explicitly_closed, DossierStatus.CLOSED.value), else_=active_by_items)
        values["closed_at"] = case(
            (and_(~explicitly_closed, items.c.active), null()),
            else_=func.coalesce(Dossier.closed_at, func.clock_timestamp()),
        )
    await session.execute(
        update(Dossier)
        .where(Dossier.id == items.c.dossier_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )


async def close(session: AsyncSession, dossier_id: uuid.UUID, *, version: int, closed_by: str) -> bool:
    """Close the dossier explicitly if it is still at ``version`` and active (one of two concurrent closes wins);
    False when another change came first."""
    closed = await session.execute(
        update(Dossier)
        .where(Dossier.id == dossier_id, Dossier.version == version, Dossier.status == DossierStatus.ACTIVE.value)
        .values(
            status=DossierStatus.CLOSED.value,
            closed_at=func.clock_timestamp(),
            closed_by=closed_by,
            updated_at=func.clock_timestamp(),
            version=Dossier.version + 1,
        )
        .returning(Dossier.id)
        .execution_options(synchronize_session=False)
    )
    return closed.one_or_none() is not None


async def page_for_participant(
    session: AsyncSession,
    enterprise_number: str,
    *,
    modified_since: datetime | None,
    status: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Dossier]:
    """Keyset pagination on (updated_at, id): a page costs the same at any depth."""
    query = (
        select(Dossier)
        .join(DossierParticipant, DossierParticipant.dossier_id == Dossier.id)
        .where(DossierParticipant.enterprise_number == enterprise_number)
        .order_by(Dossier.updated_at, Dossier.id)
        .limit(limit)
    )
    if modified_since is not None:
        query = query.where(Dossier.updated_at >= modified_since)
    if status is not None:
        query = query.where(Dossier.status == status)
    if after is not None:
        query = query.where(
            or_(Dossier.updated_at > after[0], and_(Dossier.updated_at == after[0], Dossier.id > after[1]))
        )
    return list((await session.execute(query)).scalars())


async def participants(session: AsyncSession, dossier_id: uuid.UUID) -> set[str]:
    query = select(DossierParticipant.enterprise_number).where(DossierParticipant.dossier_id == dossier_id)
    return set((await session.execute(query)).scalars())
