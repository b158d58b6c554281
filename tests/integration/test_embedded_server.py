"""The embedded server of ``rp-api demo``: data kept across restarts, /health DOWN while it is stopped and UP
again once it is back, without restarting the API. Runs on a throwaway server of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api import embedded
from rp_api.app import create_app
from rp_api.settings import Environment, Settings, as_asyncpg_url


@pytest.fixture(scope="module")
def pgdata(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("own-server") / "pgdata"
    yield path
    embedded.stop_embedded(path)


async def test_data_survives_a_restart(pgdata: Path) -> None:
    server = embedded.start_embedded(pgdata, stop_at_exit=False)
    engine = create_async_engine(as_asyncpg_url(server.url))
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE kept (note text)"))
        await connection.execute(text("INSERT INTO kept VALUES ('still here')"))
    await engine.dispose()

    assert embedded.stop_embedded(pgdata)
    assert not embedded.is_running(pgdata)
    restarted = embedded.start_embedded(pgdata, stop_at_exit=False)
    assert restarted.url == server.url

    engine = create_async_engine(as_asyncpg_url(restarted.url))
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT note FROM kept")) == "still here"
    await engine.dispose()


async def test_health_follows_the_database(pgdata: Path, tmp_path: Path) -> None:
    server = embedded.start_embedded(pgdata, stop_at_exit=False)
    app = create_app(Settings(env=Environment.TEST, database_url=server.url, data_dir=tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://rp.test") as client:
            up = await client.get("/health")
            assert (up.status_code, up.json()) == (200, {"status": "UP"})

            embedded.stop_embedded(pgdata)
            down = await client.get("/health")
            assert (down.status_code, down.json()) == (503, {"status": "DOWN"})
            assert down.headers["content-type"] == "application/json"

            embedded.start_embedded(pgdata, stop_at_exit=False)
            back = await client.get("/health")
            assert (back.status_code, back.json()) == (200, {"status": "UP"})
