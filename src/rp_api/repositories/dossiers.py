"""Queries of dossiers and their participants."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.dossier import Dossier, DossierParticipant
from rp_api.models.registration_form import RegistrationForm
from rp_api.models.request import Decision, Request
from rp_api.repositories.driver import detached, driver_of, row_of


async def get(session: AsyncSession, dossier_id: uuid.UUID) -> Dossier | None:
    return await session.get(Dossier, dossier_id)


async def ssins_of(session: AsyncSession, dossier_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The person (SSIN) of each dossier that still exists."""
    wanted = list(set(dossier_ids))
    if not wanted:
        return {}
    query = select(Dossier.id, Dossier.ssin).where(Dossier.id.in_(wanted))
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
    dossier GET), as detached copies for reading."""
    row = await (await driver_of(session)).fetchrow(_CONTENTS, dossier_id)
    if row is None:
        return None
    decisions = [detached(Decision, record) for record in row["decisions"]]
    return DossierContents(
        dossier=detached(Dossier, row["dossier"]),
        forms=[detached(RegistrationForm, record) for record in row["forms"]],
        requests=[detached(Request, record) for record in row["requests"]],
        decisions={decision.request_id: decision for decision in decisions},
    )


async def open_for(session: AsyncSession, ssin: str) -> tuple[Dossier, bool]:
    """The person's dossier, created when there is none (concurrent openers get the same one)."""
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


async def touch(session: AsyncSession, dossier_id: uuid.UUID, *, new_item: bool = False) -> None:
    """Something changed in the dossier: it moves up in every participant's modifiedSince query. ``new_item``: a
    form or request was created in it."""
    await session.execute(
        update(Dossier)
        .where(Dossier.id == dossier_id)
        .values(updated_at=func.clock_timestamp(), version=Dossier.version + 1)
        .execution_options(synchronize_session=False)
    )


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
