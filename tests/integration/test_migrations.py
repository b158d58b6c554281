"""Migrations apply, roll back and apply again on real PostgreSQL; revision files are dated."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api import migrate


async def current_revision(url: URL) -> str | None:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        exists = await connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
        revision = await connection.scalar(text("SELECT version_num FROM alembic_version")) if exists else None
    await engine.dispose()
    return revision


def test_revision_files_are_dated(repo_root: Path) -> None:
    files = sorted((repo_root / "migrations" / "versions").glob("*.py"))
    assert files
    for path in files:
        assert re.match(r"^\d{4}_\d{2}_\d{2}_\d{4}-[0-9a-f]{12}_\w+\.py$", path.name), path.name


async def test_upgrade_downgrade_upgrade(owner_database_url: URL) -> None:
    """As the owner role, which the migrations run as."""
    head = await current_revision(owner_database_url)
    assert head is not None
    import asyncio

    await asyncio.to_thread(migrate.downgrade, owner_database_url, "base")
    assert await current_revision(owner_database_url) is None
    await asyncio.to_thread(migrate.upgrade, owner_database_url)
    assert await current_revision(owner_database_url) == head
