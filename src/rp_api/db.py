"""The database engine and the unit of work: one session per request.

The session is opened by :func:`get_session`, committed by it when the endpoint returned normally and rolled
back when anything raised. Services and repositories ``flush()``; they never commit. The commit happens before
the response is sent (``scope="function"``), so a failed commit is an error answer, never a silent loss.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from rp_api.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model; constraint names follow :data:`NAMING_CONVENTION`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(settings: Settings, url: URL) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_max_overflow,
        pool_pre_ping=True,
        hide_parameters=True,  # SQL parameters (SSINs, health data) never reach an exception message
        echo=settings.debug,
        connect_args={
            "timeout": settings.db_connect_timeout_s,
            "server_settings": {
                "application_name": "rp-api",
                "statement_timeout": str(settings.db_statement_timeout_ms),
            },
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def database_answers(engine: AsyncEngine) -> bool:
    """True when the database runs a trivial query; never raises."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def _open_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


get_session = _open_session
"""The request's unit of work; override it in tests to run inside a rolled-back transaction."""

DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
