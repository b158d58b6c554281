"""Idempotency records: per organisation, user and key, the first successful answer's status and resource id."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.idempotency import IdempotencyRecord


async def claim(
    session: AsyncSession, *, organisation: str, user_key: str, key: str, fingerprint: bytes
) -> IdempotencyRecord | None:
    """Claim the key for this request; returns the earlier record when the key was used before.

    A concurrent request with the same key waits on the primary key until the first one commits (then gets its
    record) or rolls back (then claims the key itself).
    """
    claimed = (
        await session.execute(
            insert(IdempotencyRecord)
            .values(organisation=organisation, user_key=user_key, key=key, fingerprint=fingerprint)
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.key)
        )
    ).scalar_one_or_none()
    if claimed is not None:
        return None
    query = select(IdempotencyRecord).where(
        IdempotencyRecord.organisation == organisation,
        IdempotencyRecord.user_key == user_key,
        IdempotencyRecord.key == key,
    )
    return (await session.execute(query)).scalar_one()


async def remember(
    session: AsyncSession,
    *,
    organisation: str,
    user_key: str,
    key: str,
    status_code: int,
    resource_id: uuid.UUID | None,
) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.organisation == organisation,
            IdempotencyRecord.user_key == user_key,
            IdempotencyRecord.key == key,
        )
        .values(status_code=status_code, resource_id=resource_id)
    )
