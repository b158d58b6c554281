"""Queries of the consents recorded on a dossier (formulaire de consentement, deliberation 26/060 §63)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.dossier import Consent, Dossier


async def lock_dossier(session: AsyncSession, dossier_id: uuid.UUID) -> None:
    """Lock the dossier whose consents are about to change, until the transaction ends: two callers recording a
    consent of the same scope at once are taken one after the other, so the second finds the first in force."""
    await session.execute(select(Dossier.id).where(Dossier.id == dossier_id).with_for_update())


async def add(session: AsyncSession, consent: Consent) -> Consent:
    session.add(consent)
    await session.flush()
    return consent


async def get(session: AsyncSession, consent_id: uuid.UUID) -> Consent | None:
    return await session.get(Consent, consent_id)


async def of_dossier(session: AsyncSession, dossier_id: uuid.UUID) -> list[Consent]:
    """Every consent of the dossier, withdrawn ones included, oldest recording first."""
    query = select(Consent).where(Consent.dossier_id == dossier_id).order_by(Consent.recorded_at, Consent.id)
    return list((await session.execute(query)).scalars())


async def in_force(session: AsyncSession, dossier_id: uuid.UUID, scope: str, *, hold: bool = False) -> uuid.UUID | None:
    """A consent of this scope in force on the dossier (recorded, not withdrawn), or None.

    ``hold``: keep it from being withdrawn until the transaction ends (``FOR SHARE``), for a call that goes on
    because it is in force; a withdrawal committed meanwhile is seen (the row is read again) and the call refused."""
    query = (
        select(Consent.id)
        .where(Consent.dossier_id == dossier_id, Consent.scope == scope, Consent.withdrawn_at.is_(None))
        .order_by(Consent.recorded_at, Consent.id)
        .limit(1)
    )
    if hold:
        query = query.with_for_update(read=True)
    found: uuid.UUID | None = (await session.execute(query)).scalar_one_or_none()
    return found


async def withdraw(session: AsyncSession, consent_id: uuid.UUID, *, version: int, organisation: str) -> Consent | None:
    """Mark the consent withdrawn, if it is still in force at the version read (else None: a concurrent change won).

    ``withdrawn_at`` is the database's clock when the row is written: a step the consent allowed holds it (``FOR
    SHARE``, :func:`in_force`) until that step commits, so the withdrawal comes after it, in time as in order."""
    query = (
        update(Consent)
        .where(Consent.id == consent_id, Consent.version == version, Consent.withdrawn_at.is_(None))
        .values(
            withdrawn_at=func.clock_timestamp(), withdrawn_by_organisation=organisation, version=Consent.version + 1
        )
        .returning(Consent)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    withdrawn: Consent | None = (await session.execute(query)).scalar_one_or_none()
    return withdrawn
