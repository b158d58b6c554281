"""The database engine and the unit of work: one session per request.

The session is opened by :func:`unit_of_work` around each API call, committed by it when the endpoint returned
normally and rolled back when anything raised. The audit records the request queued are written in the same
transaction just before the commit (a request that sent nothing through the session, a dossier GET, writes them in
one statement of their own, without BEGIN or COMMIT); when the request failed they are written after the rollback,
on their own, as the refusals they turned out to be. Services and repositories ``flush()``; they never commit. The
commit happens before the response is sent, so a failed commit is an error answer, never a silent loss.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from rp_api.authz.audit import AuditRecord, refusal_of, settled, take_pending
from rp_api.repositories import audit as audit_repository
from rp_api.repositories.driver import began_at_database
from rp_api.settings import Settings


def create_engine(settings: Settings, url: URL, *, pool_size: int | None = None) -> AsyncEngine:
    """The engine of the request sessions; with ``pool_size``, a separate pool of that size (and as much overflow)."""
    return create_async_engine(
        url,
        pool_size=pool_size or settings.db_pool_size,
        max_overflow=pool_size or settings.db_pool_max_overflow,
        pool_pre_ping=settings.db_pool_pre_ping,
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


_SESSION = "rp.session"


class UnitOfWork:
    """What the route tells the unit of work about the call's answer: its HTTP status, once the endpoint built it."""

    __slots__ = ("status",)

    def __init__(self) -> None:
        self.status: int | None = None

    def answered(self, status: int) -> None:
        self.status = status


@asynccontextmanager
async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """The request's session, for the whole call: opened before FastAPI solves the endpoint's dependencies,
    committed (or rolled back) when the endpoint's response is built, before it is sent. Entered by the route
    class of every API RP router (:class:`rp_api.routers.ApiRoute`), which reports the answer's status.

    The audit records the call queued are settled with the outcome the caller actually got (see
    :mod:`rp_api.authz.audit`) and written once: with the data, or, when the call failed, after the rollback."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        request.scope[_SESSION] = session
        work = UnitOfWork()
        taken: list[AuditRecord] = []
        try:
            yield work
            if session.new or session.dirty or session.deleted:
                await session.flush()  # nothing left in flight: the records join the transaction, if one began
            taken = take_pending(session)
            await audit_repository.append(session, settled(taken, status=work.status or 200, refusal=None), alone=True)
            if began_at_database(session):
                await session.commit()
            # else nothing was sent but the autocommitted audit append: closing the session ends it (~80 µs less)
        except BaseException as exc:
            await session.rollback()
            # The call failed, but what it was allowed or denied is still recorded, on its own, as a refusal.
            await _write_audit_alone(session, exc, [*taken, *take_pending(session)])
            raise
        finally:
            del request.scope[_SESSION]


async def _write_audit_alone(session: AsyncSession, exc: BaseException, records: list[AuditRecord]) -> None:
    """``records``: every record of the call, those already taken for a commit that then failed included."""
    status, refusal = refusal_of(exc)
    pending = settled(records, status=status, refusal=refusal)
    if pending:
        await audit_repository.append(session, pending, alone=True)
        await session.commit()


def session_of(request: Request) -> AsyncSession:
    """The session of the request's unit of work; fails (500) on a route that has none rather than open one."""
    session = request.scope.get(_SESSION)
    if not isinstance(session, AsyncSession):
        raise RuntimeError("no unit of work: the route was not made by rp_api.routers.api_router")
    return session


async def _current_session(request: Request) -> AsyncSession:
    return session_of(request)


DbSession = Annotated[AsyncSession, Depends(_current_session)]
"""The request's session. A plain dependency: as a generator dependency, FastAPI's own set-up and tear-down of
it cost ~95 µs a call (measured in-process), ~7 % of a warm dossier GET."""
