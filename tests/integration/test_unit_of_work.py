"""One session per request: committed when the endpoint returns, rolled back when anything raises."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from rp_api.db import DbSession
from rp_api.problems import ResourceNotFound
from rp_api.repositories.driver import began_at_database, driver_of
from rp_api.routers import api_router
from tests.databases import OWNER, as_role

router = api_router(prefix="/rp/v1/uow")


@router.post("/{note}", status_code=201)
async def write(note: str, session: DbSession) -> dict[str, str]:
    await session.execute(text("INSERT INTO uow_probe (note) VALUES (:note)"), {"note": note})
    await session.flush()
    if note.startswith("problem"):
        raise ResourceNotFound()
    if note.startswith("crash"):
        raise RuntimeError("after the write")
    return {"note": note}


@router.get("/same-session")
async def same_session(first: DbSession, second: DbSession) -> dict[str, bool]:
    return {"same": first is second}


@pytest.fixture
async def uow_client(app: FastAPI, client: httpx.AsyncClient, connection: AsyncConnection) -> httpx.AsyncClient:
    # The runtime role makes no table; a temporary one of the test's connection (which the app's sessions share).
    await connection.execute(text("CREATE TEMPORARY TABLE uow_probe (note text NOT NULL)"))
    app.include_router(router)
    return client


async def notes(connection: AsyncConnection) -> list[str]:
    return list((await connection.scalars(text("SELECT note FROM uow_probe ORDER BY note"))).all())


async def test_success_is_committed(uow_client: httpx.AsyncClient, connection: AsyncConnection) -> None:
    assert (await uow_client.post("/rp/v1/uow/kept")).status_code == 201
    assert await notes(connection) == ["kept"]


@pytest.mark.parametrize(("note", "status"), [("problem-1", 404), ("crash-1", 500)])
async def test_error_rolls_back(
    uow_client: httpx.AsyncClient, connection: AsyncConnection, note: str, status: int
) -> None:
    assert (await uow_client.post(f"/rp/v1/uow/{note}")).status_code == status
    assert await notes(connection) == []


async def test_one_session_per_request(uow_client: httpx.AsyncClient) -> None:
    assert (await uow_client.get("/rp/v1/uow/same-session")).json() == {"same": True}


@router.post("/driver-first/{note}", status_code=201)
async def driver_first(note: str, session: DbSession) -> dict[str, bool]:
    """A read on the driver (autocommitted, no BEGIN), then a write through the session."""
    driver = await driver_of(session)
    assert await driver.fetchval("SELECT 1") == 1
    read_only = not began_at_database(session)
    await session.execute(text("INSERT INTO uow_probe (note) VALUES (:note)"), {"note": note})
    return {"readOnlyBeforeTheWrite": read_only, "beganAfter": began_at_database(session)}


async def test_a_write_after_a_driver_read_is_committed(own_app: FastAPI, own_database: URL) -> None:
    """On real connections (no test transaction around them): the commit is skipped only when nothing began at
    the database, so a write that follows a read on the driver is still committed."""
    engine = create_async_engine(own_database)
    owner = create_async_engine(as_role(own_database, OWNER))  # who makes tables (the runtime role may write them)
    async with owner.begin() as connection:
        await connection.execute(text("CREATE TABLE uow_probe (note text NOT NULL)"))
    await owner.dispose()
    own_app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=own_app), base_url="http://rp.test") as client:
        answer = await client.post("/rp/v1/uow/driver-first/kept")
    assert answer.json() == {"readOnlyBeforeTheWrite": True, "beganAfter": True}
    async with engine.connect() as connection:
        assert await notes(connection) == ["kept"]
        idle_in_transaction = await connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'")
        )
    await engine.dispose()
    assert idle_in_transaction == 0
