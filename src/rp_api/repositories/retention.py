"""Queries of retention: expired dossiers (deleted as a whole, cascading to everything in them), old idempotency
records. Rows another transaction is changing are skipped (``SKIP LOCKED``) and taken by the next run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.models.conversation import FeedEvent
from rp_api.models.dossier import Dossier
from rp_api.models.idempotency import IdempotencyRecord


async def count_expired_dossiers(session: AsyncSession, cutoff: datetime) -> int:
    return int(await session.scalar(select(func.count()).where(Dossier.updated_at < cutoff)) or 0)


async def delete_expired_dossiers(session: AsyncSession, cutoff: datetime, *, batch: int) -> int:
    ids = list(
        (
            await session.execute(
                select(Dossier.id).where(Dossier.updated_at < cutoff).limit(batch).with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    if not ids:
        return 0
    await session.execute(delete(FeedEvent).where(FeedEvent.dossier_id.in_(ids)))
    await session.execute(delete(Dossier).where(Dossier.id.in_(ids)))
    return len(ids)


async def count_old_idempotency_records(session: AsyncSession, cutoff: datetime) -> int:
    return int(await session.scalar(select(func.count()).where(IdempotencyRecord.created_at < cutoff)) or 0)


async def delete_old_idempotency_records(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
