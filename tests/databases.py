"""Scratch PostgreSQL databases for tests: created, migrated (as the owner role), dropped.

The migrations create the two roles of API RP on the server (``rp_owner``, ``rp_runtime``; cluster-wide, shared by
every scratch database) and run as the owner; the service runs as the runtime role, and so do the tests, unless
they act as the owner on purpose (:func:`as_role`). On a server of ``RP_TEST_DATABASE_URL`` with passwords, both
roles are given the password of that URL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api import migrate

ROLES = migrate.Roles()
OWNER = ROLES.owner
RUNTIME = ROLES.runtime


def as_role(url: URL, role: str) -> URL:
    """The same database, logged in as ``role`` (the two roles have the server URL's password, if any)."""
    return url.set(username=role)


async def _admin(server_url: URL, *statements: str) -> None:
    engine = create_async_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    await engine.dispose()


async def create_migrated(server_url: URL, name: str) -> URL:
    """Create database ``name`` on the server and migrate it; returns its runtime role's URL."""
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    url = server_url.set(database=name)
    await asyncio.to_thread(migrate.upgrade, url)
    if server_url.password:
        password = server_url.password.replace("'", "''")
        await _admin(server_url, *(f"ALTER ROLE {role} PASSWORD '{password}'" for role in (OWNER, RUNTIME)))
    return as_role(url, RUNTIME)


async def drop(server_url: URL, name: str) -> None:
    await _admin(server_url, f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(server_url: URL, prefix: str) -> Iterator[URL]:
    """A new database on the server, migrated to head, dropped on exit (outside any running event loop). Yields
    the URL of the runtime role, as the service uses it."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(create_migrated(server_url, name))
    try:
        yield url
    finally:
        asyncio.run(drop(server_url, name))
