"""Optimistic concurrency over HTTP: ``ETag`` on what can change, ``If-Match`` required to change it
(428 when missing, 412 when stale)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from rp_api.i18n import language
from rp_api.problems import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def require_if_match(request: Request, version: int) -> None:
    lang = language(request.headers.get("accept-language"))
    header = request.headers.get("if-match")
    if header is None:
        raise PreconditionRequired(lang=lang)
    candidates = [candidate.strip() for candidate in header.split(",")]
    if "*" not in candidates and etag(version) not in candidates:
        raise PreconditionFailed(lang=lang)


async def flush_or_precondition_failed(session: AsyncSession, *, lang: str) -> None:
    """Write a versioned change: when another request changed the row since it was read, exactly one of them wins
    and the other is 412 (the UPDATE checks the version it read)."""
    try:
        await session.flush()
    except StaleDataError:
        raise PreconditionFailed(lang=lang) from None
