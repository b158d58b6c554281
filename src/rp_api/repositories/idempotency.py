"""Idempotency records: the first successful answer to a POST, per organisation and key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.idempotency import IdempotencyRecord


async def claim(session: AsyncSession, *, organisation: str, key: str, fingerprint: bytes) -> IdempotencyRecord | None:
    """Claim the key for this request; returns the earlier record when the key was used before.

    A concurrent request with the same key waits on the primary key until the first one commits (then gets its
    record) or rolls back (then claims the key itself).
    """
    claimed = (
        await session.execute(
            insert(IdempotencyRecord)
            .values(organisation=organisation, key=key, fingerprint=fingerprint)
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.key)
        )
    ).scalar_one_or_none()
    if claimed is not None:
        return None
    query = select(IdempotencyRecord).where(
        IdempotencyRecord.organisation == organisation, IdempotencyRecord.key == key
    )
    return (await session.execute(query)).scalar_one()


async def remember(
    session: AsyncSession, *, organisation: str, key: str, status_code: int, body: Any, headers: dict[str, str]
) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.organisation == organisation, IdempotencyRecord.key == key)
        .values(status_code=status_code, body=body, headers=headers)
    )
