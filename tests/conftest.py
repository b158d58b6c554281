"""Test harness: one real PostgreSQL per test session, every test isolated in a rolled-back transaction.

The server is the embedded one (same wheel as ``rp-api demo``), in a temporary directory, unless
``RP_TEST_DATABASE_URL`` points at another PostgreSQL. A fresh database is created and migrated once; each test
gets a connection inside an outer transaction, and the application's sessions join it through savepoints, so
the real unit-of-work code (commit on success, rollback on error) runs and nothing outlives the test.

As in production, the migrations run as the owner role and everything else as the runtime role
(:mod:`tests.databases`): ``database_url``, ``engine``, ``connection``, ``client`` and ``own_database`` are the
runtime role's; ``owner_database_url``, ``owner_engine`` and ``owner_connection`` are for tests that act as the
owner on purpose (an insider who can disable triggers and rewrite rows).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine

from rp_api import embedded
from rp_api.app import create_app
from rp_api.audit_chain import Keyring
from rp_api.audit_keys import load_keyring
from rp_api.authz.principal import IssuerName
from rp_api.repositories.audit import KEYRING
from rp_api.settings import Environment, Settings, SimulatorSettings, UpstreamSettings, as_asyncpg_url
from rp_api.simulator.app import SimulatorState, create_simulator_app
from rp_api.simulator.population import Population, build_population
from tests.databases import OWNER, as_role, create_migrated, drop, scratch_database
from tests.token_factory import TokenFactory

SIMULATOR_URL = "http://simulator.test"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """The PostgreSQL server of this test session (its maintenance database)."""
    external = os.environ.get("RP_TEST_DATABASE_URL")
    if external:
        yield as_asyncpg_url(external)
        return
    server = embedded.start_embedded(tmp_path_factory.mktemp("pg") / "pgdata")
    yield as_asyncpg_url(server.url)
    server.stop()


@pytest.fixture(scope="session")
def database_url(server_url: URL) -> Iterator[URL]:
    """A fresh database for this session, migrated to head, dropped at the end: the runtime role's URL."""
    with scratch_database(server_url, "rp_test") as url:
        yield url


@pytest.fixture(scope="session")
def owner_database_url(database_url: URL) -> URL:
    """The session's database as its owner role (the role the migrations run as)."""
    return as_role(database_url, OWNER)


@pytest.fixture(scope="session")
def tokens() -> TokenFactory:
    """The test identity providers (one key pair each for RSA and EC) and their tokens."""
    return TokenFactory()


@pytest.fixture(scope="session")
def settings(database_url: URL, tmp_path_factory: pytest.TempPathFactory, tokens: TokenFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    jwks_file = tokens.write_jwks(data_dir / "jwks.json")
    return Settings(
        env=Environment.TEST,
        database_url=database_url.render_as_string(hide_password=False),
        migration_database_url=as_role(database_url, OWNER).render_as_string(hide_password=False),
        data_dir=data_dir,
        uman_ehealth=tokens.issuer_settings(IssuerName.UMAN_EHEALTH, jwks_file),
        uman_bcss=tokens.issuer_settings(IssuerName.UMAN_BCSS, jwks_file),
        inami_internal=tokens.issuer_settings(IssuerName.INAMI_INTERNAL, jwks_file),
        upstream=UpstreamSettings(timeout_s=0.3, retries=1, backoff_s=0.01).with_base(SIMULATOR_URL),
    )


@pytest.fixture(scope="session")
def population() -> Population:
    return build_population()


@pytest.fixture(scope="session")
def simulator_app(population: Population) -> FastAPI:
    return create_simulator_app(SimulatorSettings(), population)


@pytest.fixture
def simulator(simulator_app: FastAPI) -> SimulatorState:
    """The in-process fake of every authentic source, reset (no latency, no fault, no calls, every person as built)
    for each test."""
    state: SimulatorState = simulator_app.state.simulator
    state.population.restore()
    state.latency_ms.clear()
    state.faults.clear()
    state.calls.clear()
    state.received.clear()
    return state


@pytest.fixture(scope="session")
def audit_keyring(settings: Settings) -> Keyring:
    """The audit MAC keys of the test settings (generated in their data directory), as the app loads them."""
    return load_keyring(settings)


@pytest.fixture(scope="session")
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    """The runtime role's engine."""
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def owner_engine(owner_database_url: URL) -> AsyncIterator[AsyncEngine]:
    """The owner role's engine."""
    engine = create_async_engine(owner_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The test's connection, as the runtime role; everything done on it (and by the app) is rolled back
    afterwards."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        if transaction.is_active:
            await transaction.rollback()


@pytest.fixture
async def owner_connection(owner_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection as the owner role, rolled back afterwards (it does not see the ``connection``'s work)."""
    async with owner_engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        if transaction.is_active:
            await transaction.rollback()


@pytest.fixture
def app(settings: Settings, simulator_app: FastAPI) -> FastAPI:
    return create_app(settings, upstream_transport=httpx.ASGITransport(app=simulator_app))


@pytest.fixture
async def client(
    app: FastAPI, connection: AsyncConnection, engine: AsyncEngine, simulator: SimulatorState
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, whose sessions run inside the test's transaction.

    The link cache is written by the link resolver on connections of its own (as in production), so it is
    emptied here for each test.
    """
    async with engine.begin() as own:
        await own.execute(text("DELETE FROM person_link_cache"))
    async with app.router.lifespan_context(app):
        app.state.sessionmaker = async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
            info={KEYRING: app.state.audit_keyring},
        )
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://rp.test") as client:
            yield client


@pytest.fixture
def forget_links(engine: AsyncEngine) -> Callable[[FastAPI], Awaitable[None]]:
    """``await forget_links(app)``: the app forgets every person's links it remembers (in its memory and in the
    PostgreSQL link cache), so that its next call sees the sources anew (after a change made in the simulator)."""

    async def forget(app: FastAPI) -> None:
        app.state.link_resolver.forget()
        async with engine.begin() as own:
            await own.execute(text("DELETE FROM person_link_cache"))

    return forget


@pytest.fixture
async def own_database(server_url: URL) -> AsyncIterator[URL]:
    """A scratch database, migrated, dropped afterwards: for tests that need committed data or many connections
    (the shared test database keeps nothing, and its audit log is append-only). The runtime role's URL; the owner's
    is ``as_role(own_database, OWNER)``."""
    name = f"rp_own_{uuid.uuid4().hex[:8]}"
    yield await create_migrated(server_url, name)
    await drop(server_url, name)


@pytest.fixture
async def own_app(
    own_database: URL, settings: Settings, simulator_app: FastAPI, simulator: SimulatorState
) -> AsyncIterator[FastAPI]:
    """The app on a database of its own, with real connections per request: for tests of concurrency."""
    own = settings.model_copy(
        update={"database_url": own_database.render_as_string(hide_password=False), "db_pool_size": 50}
    )
    app = create_app(own, upstream_transport=httpx.ASGITransport(app=simulator_app))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def own_client(own_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=own_app), base_url="http://rp.test") as client:
        yield client


@pytest.fixture
def clean_rp_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``RP_*`` variable of the machine leaks into a test about configuration."""
    for name in list(os.environ):
        if name.startswith("RP_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture
def logged(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    """The JSON lines the service wrote on stderr so far in this test, parsed (each call reads the new ones)."""

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]

    return lines
