"""Scratch PostgreSQL databases for tests: created, migrated, dropped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api import migrate


async def _admin(server_url: URL, statement: str) -> None:
    engine = create_async_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@contextmanager
def scratch_database(server_url: URL, prefix: str) -> Iterator[URL]:
    """A new database on the server, migrated to head, dropped on exit (outside any running event loop)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = server_url.set(database=name)
    migrate.upgrade(url)
    try:
        yield url
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))
