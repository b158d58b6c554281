"""What the page benchmarks share (``decision_list.py``, ``work_list.py``, ``feed_depth.py``): the embedded
PostgreSQL, migrated; the caller (a principal of an organisation); the stand-in sources; a page read in its own
transaction through the person guard with its audit records appended; the medians; the printed table and the JSON.

Not a script: the scripts import it from their directory (``python bench/x.py`` puts ``bench/`` on ``sys.path``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from rp_api import embedded, migrate
from rp_api.audit_chain import Keyring
from rp_api.authz.audit import settled, take_pending
from rp_api.authz.links import LinkResolver
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonGuard
from rp_api.clients.job_seeker import Registration
from rp_api.clients.national_register import RegisteredPerson
from rp_api.domain.actors import Role
from rp_api.domain.principal import IssuerName, Principal
from rp_api.repositories import audit as audit_repository
from rp_api.settings import as_asyncpg_url

T = TypeVar("T")
PAGE = 100


@contextlib.asynccontextmanager
async def database() -> AsyncIterator[AsyncEngine]:
    """The embedded PostgreSQL in a temporary directory, migrated; stopped on leaving."""
    server = embedded.start_embedded(Path(tempfile.mkdtemp(prefix="rp-bench-")) / "pgdata")
    try:
        url = as_asyncpg_url(server.url)
        await asyncio.to_thread(migrate.upgrade, url)
        engine = create_async_engine(url)
        try:
            yield engine
        finally:
            await engine.dispose()
    finally:
        server.stop()


def organisation(name: str) -> Any:
    found = OrganisationRegistry.load().find(name)
    assert found is not None, name
    return found


def principal(organisation: Any, role: Role) -> Principal:
    """A user of ``organisation`` with one role, as a verified token gives it."""
    return Principal(
        organisation_type=organisation.type,
        enterprise_number=organisation.enterprise_number,
        organisation_name=organisation.name,
        oa_number=None,
        user_ssin="75050575724",
        roles=frozenset({role}),
        issuer=IssuerName.UMAN_BCSS,
        token_id="bench-token",  # noqa: S106 - a token's id, not a secret
        expires_at=datetime.now(UTC),
    )


class _Register:
    async def person(self, *, ssin: str, trace_id: str | None, **_: Any) -> RegisteredPerson:
        return RegisteredPerson(ssin=ssin, given_name="An", family_name="Peeters", birth_date=date(1980, 1, 1))


class _JobSeeker:
    def __init__(self, service: str) -> None:
        self.service = service

    async def registrations(self, *, ssin: str, trace_id: str | None, **_: Any) -> list[Registration]:
        return [Registration(regional_service=self.service, registration_date=date(2026, 1, 5))]


class Sources:
    """Stand-ins for the two sources a regional service's access decision needs, answering at once."""

    def __init__(self, service: str) -> None:
        self.national_register = _Register()
        self.job_seeker = _JobSeeker(service)


@dataclass(frozen=True)
class Reader:
    """Reads as the endpoint does: in its own transaction, through the person guard, the audit records the read
    left pending appended (keyed chain) before the commit."""

    engine: AsyncEngine
    principal: Principal
    resolver: LinkResolver
    # the audit MAC key (the service reads RP_AUDIT_KEY_FILE)
    keyring: Keyring = field(default_factory=lambda: Keyring.parse(Keyring.new_line("bench")))

    async def __call__(self, read: Callable[[AsyncSession, PersonGuard], Awaitable[T]]) -> T:
        async with AsyncSession(self.engine, expire_on_commit=False) as session, session.begin():
            result = await read(session, PersonGuard(self.principal, session, self.resolver, "bench-trace"))
            await audit_repository.append(
                session, settled(take_pending(session), status=200, refusal=None), keyring=self.keyring
            )
        return result


async def medians(
    measures: dict[str, Callable[[], Awaitable[float]]], rounds: int, *, warm_ups: int = 1
) -> dict[str, float]:
    """Each measure's median over ``rounds`` rounds (the measures in turn), after ``warm_ups`` of each."""
    for measure in measures.values():
        for _ in range(warm_ups):
            await measure()
    samples: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(rounds):
        for name, measure in measures.items():
            samples[name].append(await measure())
    return {name: statistics.median(values) for name, values in samples.items()}


def machine() -> str:
    return f"machine: {platform.machine()}, CPython {platform.python_version()}"


def write_json(output: Path, result: dict[str, Any]) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2))


# The list benchmarks (decision_list.py, work_list.py): a first page without re-check and audit, the same with
# both, and a deep page with both.


async def run_list(
    rows: int,
    rounds: int,
    *,
    role: Role,
    seed: Callable[[AsyncConnection, str], Awaitable[str]],
    read: Callable[[AsyncSession, PersonGuard, bool, str | None], Awaitable[Any]],
    write: Callable[[Any], object] | None = None,
) -> dict[str, float]:
    """``seed(connection, organisation)`` loads the rows and gives the deep page's cursor; ``read(session, guard,
    audited, cursor)`` reads a page of 100 of VDAB's list; ``write`` (timed too) writes the answer."""
    async with database() as engine:
        vdab = organisation("VDAB")
        async with engine.begin() as connection:
            deep_cursor = await seed(connection, vdab.enterprise_number)
        sources: Any = Sources(vdab.enterprise_number)
        resolver = LinkResolver(sources, async_sessionmaker(engine), ttl_s=86_400, memory_entries=rows * 4)
        reader = Reader(engine, principal(vdab, role), resolver)

        async def page(*, audited: bool, cursor: str | None) -> float:
            started = time.perf_counter()
            listed = await reader(lambda session, guard: read(session, guard, audited, cursor))
            assert len(listed.items) == PAGE
            if write is not None:
                write(listed)
            return time.perf_counter() - started

        # one warm-up each: the links of both pages come into memory
        return await medians(
            {
                "without either": lambda: page(audited=False, cursor=None),
                "re-check + audit": lambda: page(audited=True, cursor=None),
                "deep, both": lambda: page(audited=True, cursor=deep_cursor),
            },
            rounds,
        )


def list_arguments(doc: str | None, *, rows: int, output: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--output", type=Path, default=output)
    return parser


def report_list(
    results: dict[str, float], *, lines: str, output: Path, audit_target: float, depth_target: float
) -> int:
    """Prints the table and the ratios, writes the JSON; 1 when a target is missed."""
    audit_ratio = results["re-check + audit"] / results["without either"]
    depth_ratio = results["deep, both"] / results["re-check + audit"]
    print(f"{machine()}, {lines}, pages of {PAGE}")
    for name, seconds in results.items():
        print(f"{name:<18} {seconds * 1000:8.2f} ms")
    print(
        f"re-check + audit cost: {audit_ratio:.2f} × (target ≤ {audit_target})   "
        f"depth cost: {depth_ratio:.2f} × (target ≤ {depth_target})"
    )
    write_json(
        output,
        {
            "ms": {k: round(v * 1000, 3) for k, v in results.items()},
            "auditRatio": audit_ratio,
            "depthRatio": depth_ratio,
        },
    )
    return 0 if audit_ratio <= audit_target and depth_ratio <= depth_target else 1
