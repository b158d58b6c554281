"""The database engine and the unit of work: one session per request.

The session is opened by :func:`unit_of_work` around each API call, committed by it when the endpoint returned
normally and rolled back when anything raised. The audit records the request queued are written in the same
transaction just before the commit (a request that sent nothing through the session, a dossier GET, writes them in
one statement of their own, without BEGIN or COMMIT, together with those of the calls of the process that reach that
point at the same moment: :mod:`rp_api.audit_group`); when the request failed they are written after the rollback,
on their own, as the refusals they turned out to be. Services and repositories ``flush()``; they never commit. The
commit happens before the response is sent, so a failed commit is an error answer, never a silent loss.

At start-up, :func:`when_the_database_answers` gives a database that does not answer yet a bounded time
(``RP_DB_STARTUP_WAIT_S``), and says why it gave up in words that never quote the URL.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from rp_api.audit_group import AUDIT_GROUP, AppendedThenCancelled, AuditGroupCommit, append_now
from rp_api.authz.audit import AuditRecord, refusal_of, settled, take_pending
from rp_api.problems import Problem, ServiceUnavailable, TransitionNotAllowed
from rp_api.repositories.driver import began_at_database, connection_lost, driver_of
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


class DatabaseUnavailableError(RuntimeError):
    """The database did not answer at start-up: the message says why, in one line, never quoting the URL."""


T = TypeVar("T")

_FIRST_RETRY_S = 0.25
_LONGEST_RETRY_S = 2.0


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps: SQLAlchemy's ``orig``, then the causes and contexts."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(e for e in (getattr(current, "orig", None), current.__cause__, current.__context__) if e)


_FINAL: tuple[tuple[type[BaseException] | str, str], ...] = (
    ("28000", "the database refused the login (user or password; the roles are made by rp-api migrate)"),
    ("28P01", "the database refused the login (user or password; the roles are made by rp-api migrate)"),
    ("3D000", "the database does not exist"),
    (ssl.SSLCertVerificationError, "the database's TLS certificate was not accepted (sslmode, PGSSLROOTCERT)"),
    (TypeError, "the URL has a query parameter the driver does not know"),
)
"""Failures that waiting does not mend: the first one ends the start-up. A string is a SQLSTATE (the driver's
error carries it as ``sqlstate``)."""

_TRANSIENT: tuple[tuple[type[BaseException] | str, str], ...] = (
    ("57P03", "the database is starting or stopping"),
    ("53300", "the database has too many connections"),
    (ConnectionRefusedError, "connection refused"),
    (socket.gaierror, "host name not found"),
    (TimeoutError, "no answer within RP_DB_CONNECT_TIMEOUT_S"),
    (ssl.SSLError, "the TLS handshake failed (sslmode)"),
    (FileNotFoundError, "no server socket at that path"),
    (OSError, "network error"),
)


def why_unavailable(exc: BaseException) -> tuple[str, bool]:
    """Why the database did not answer, in words that quote neither the URL nor the driver's message (which
    names hosts and users), and whether waiting may mend it."""
    causes = list(_causes(exc))
    for kinds, final in ((_FINAL, True), (_TRANSIENT, False)):
        for kind, reason in kinds:
            if any(_is(cause, kind) for cause in causes):
                return reason, final
    return type(causes[-1]).__name__, False


def _is(cause: BaseException, kind: type[BaseException] | str) -> bool:
    if isinstance(kind, str):
        return getattr(cause, "sqlstate", None) == kind
    return isinstance(cause, kind)


async def when_the_database_answers(
    attempt: Callable[[], Awaitable[T]],
    *,
    wait_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """``attempt()`` (one connection and its queries), tried again while the database does not answer, until
    ``wait_s`` has passed (delays 0.25 s doubling up to 2 s). A refused login, a missing database or a refused
    certificate ends it at once. Raises :class:`DatabaseUnavailableError`."""
    deadline = clock() + wait_s
    delay = _FIRST_RETRY_S
    attempts = 0
    while True:
        attempts += 1
        try:
            return await attempt()
        except Exception as exc:
            reason, final = why_unavailable(exc)
            left = deadline - clock()
            if final or left <= 0:
                tried = f" ({attempts} attempts in {wait_s:g} s)" if attempts > 1 else ""
                raise DatabaseUnavailableError(f"{reason}{tried}") from None
            await sleep(min(delay, left))
            delay = min(delay * 2, _LONGEST_RETRY_S)


_RETRY = ("40P01", "40001")
"""Deadlock, serialisation failure: two calls met on the same rows; the database rolled one back."""
_GONE = "23503"
"""A foreign key no longer met: another call removed (merged) the row this one wrote under."""


def concurrent_conflict(exc: BaseException) -> Problem | None:
    """The answer to a call that lost a race with another one on the database (rolled back, nothing written): 503
    to try again for a deadlock or a serialisation failure, 409 to read again for a row another call removed
    meanwhile (a dossier merged with the person's other one); None for any other failure."""
    causes = list(_causes(exc))
    if any(_is(cause, code) for cause in causes for code in _RETRY):
        return ServiceUnavailable("Another call changed the same data at the same moment: try again")
    if any(_is(cause, _GONE) for cause in causes):
        return TransitionNotAllowed("What the call wrote into was changed meanwhile (e.g. merged): read it again")
    return None


LOST_CONNECTION = "The connection to the database was lost: try again"
"""The answer (503) to a call whose database connection died under it (the server ended it, the network cut it)."""

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
            records = settled(taken, status=work.status or 200, refusal=None)
            if await _in_transaction(session, records):
                await append_now(session, records)  # with the data, in its transaction
                await session.commit()
            else:  # nothing but the audit records to write: with those of the calls appending at the same moment
                await _appended_together(request, session, records)
            # (without a transaction, closing the session ends it: ~80 µs less than a COMMIT)
        except BaseException as exc:
            lost = connection_lost(session)
            if lost:
                await session.invalidate()  # not back to the pool: the next call of this process gets a live one
            else:
                await session.rollback()
            if isinstance(exc, AppendedThenCancelled):
                raise  # its records are committed: nothing to write again
            conflict = concurrent_conflict(exc)
            if conflict is None and lost and not isinstance(exc, Problem):
                conflict = ServiceUnavailable(LOST_CONNECTION)
            # The call failed, but what it was allowed or denied is still recorded, on its own, as a refusal.
            await _write_audit_alone(session, conflict or exc, [*taken, *take_pending(session)])
            if conflict is not None:
                raise conflict from None
            raise
        finally:
            del request.scope[_SESSION]


async def _write_audit_alone(session: AsyncSession, exc: BaseException, records: list[AuditRecord]) -> None:
    """``records``: every record of the call, those already taken for a commit that then failed included."""
    status, refusal = refusal_of(exc)
    pending = settled(records, status=status, refusal=refusal)
    if pending:
        await append_now(session, pending)
        await session.commit()


async def _in_transaction(session: AsyncSession, records: Sequence[AuditRecord]) -> bool:
    """Whether the call's connection has a transaction open at the database: the call wrote (or read under a
    lock), or its session is bound to a connection already in one (the tests' sessions); the records then go in
    it, and it is committed."""
    if began_at_database(session):
        return True
    return bool(records) and bool((await driver_of(session)).is_in_transaction())


async def _appended_together(request: Request, session: AsyncSession, records: Sequence[AuditRecord]) -> None:
    """Through the process's group commit (:mod:`rp_api.audit_group`), which the app's lifespan made; an app built
    without it appends the records on its own."""
    group = getattr(request.app.state, AUDIT_GROUP, None)
    if isinstance(group, AuditGroupCommit):
        await group.append(session, records)
    else:
        await append_now(session, records)


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
