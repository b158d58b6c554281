"""Queries of the addressees of registration forms and requests (work routing)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.dossier import Addressee, DossierParticipant

REGISTRATION_FORM = "registrationForm"
REQUEST = "request"


async def of(session: AsyncSession, resource_id: uuid.UUID) -> set[str]:
    query = select(Addressee.enterprise_number).where(Addressee.resource_id == resource_id)
    return set((await session.execute(query)).scalars())


async def of_dossier(session: AsyncSession, dossier_id: uuid.UUID) -> set[str]:
    """Every organisation one of the dossier's forms or requests is addressed to."""
    query = select(Addressee.enterprise_number).where(Addressee.dossier_id == dossier_id).distinct()
    return set((await session.execute(query)).scalars())


async def add(
    session: AsyncSession,
    *,
    resource_type: str,
    resource_id: uuid.UUID,
    dossier_id: uuid.UUID,
    organisations: Iterable[str],
) -> None:
    """Address the item to these organisations (those already addressed stay), and make each a participant of the
    dossier (its ``dossiers/query``)."""
    numbers = sorted(set(organisations))
    if not numbers:
        return
    await session.execute(
        insert(Addressee)
        .values(
            [
                {"resource_id": resource_id, "enterprise_number": n, "resource_type": resource_type,
                 "dossier_id": dossier_id}
                for n in numbers
            ]
        )
        .on_conflict_do_nothing()
    )  # fmt: skip
    await session.execute(
        insert(DossierParticipant)
        .values([{"dossier_id": dossier_id, "enterprise_number": n} for n in numbers])
        .on_conflict_do_nothing()
    )
