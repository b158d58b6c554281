"""Alembic environment (async, asyncpg). The URL comes from the caller (``rp-api migrate``) or the settings."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import rp_api.models  # noqa: F401 - registers the tables
from rp_api.migrate import give_retention, prepare_roles, roles
from rp_api.models.base import Base
from rp_api.settings import Settings

config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = Base.metadata
# Two replicas migrating at once take turns on this lock instead of racing.
_MIGRATION_LOCK_KEY = 260_600_001


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """The audit log's monthly partitions (and their indexes) are made at run time, not by the models."""
    table = getattr(obj, "table", obj)
    return not (reflected and str(getattr(table, "name", "")).startswith("audit_event_"))


def _url() -> object:
    return config.attributes.get("url") or Settings().migration_sqlalchemy_url()


def run_migrations_offline() -> None:
    context.configure(url=str(_url()), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, compare_type=True, include_object=include_object
    )
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        # The owner role owns what the migrations make; the runtime role gets what they grant it (rp_api.migrate).
        prepare_roles(connection, roles())
        context.run_migrations()
        retention = config.attributes.get("audit_retention_months")
        if retention is not None:
            give_retention(connection, retention)


async def run_migrations_online() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)  # type: ignore[call-overload]
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
