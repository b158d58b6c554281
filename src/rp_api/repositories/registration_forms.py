"""Queries of registration forms."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.registration_form import RegistrationForm


async def add(session: AsyncSession, form: RegistrationForm) -> RegistrationForm:
    session.add(form)
    await session.flush()
    await session.refresh(form)
    return form


async def get(session: AsyncSession, form_id: uuid.UUID) -> RegistrationForm | None:
    return await session.get(RegistrationForm, form_id)


async def of_dossier(session: AsyncSession, dossier_id: uuid.UUID) -> list[RegistrationForm]:
    query = (
        select(RegistrationForm).where(RegistrationForm.dossier_id == dossier_id).order_by(RegistrationForm.created_at)
    )
    return list((await session.execute(query)).scalars())
