"""The asyncpg connection under a request's session, for the few hot statements that skip SQLAlchemy's execution
layer (measured: ~400 µs a statement through it, ~150 µs on the driver, on a warm dossier GET's critical path).

Statements sent this way run inside the session's transaction when it has begun one at the database (SQLAlchemy's
asyncpg adapter sends BEGIN lazily, with its first statement), and on their own (autocommit) when it has not.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

import orjson
from sqlalchemy import JSON, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.instrumentation import manager_of_class

from rp_api.models.base import Base

M = TypeVar("M", bound=Base)


_DRIVER = "rp.driver"


async def driver_of(session: AsyncSession) -> Any:
    """The request's own connection (checked out of the pool if it was not yet), as asyncpg's ``Connection``.

    Remembered for the session's current transaction, which holds that connection until it ends (a warm dossier
    GET asks twice: the read, then the audit append; each ask through SQLAlchemy costs ~40 µs)."""
    transaction = session.sync_session.get_transaction()
    remembered = session.info.get(_DRIVER)
    if transaction is not None and remembered is not None and remembered[0] is transaction:
        return remembered[1]
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    session.info[_DRIVER] = (session.sync_session.get_transaction(), driver)
    return driver


def began_at_database(session: AsyncSession) -> bool:
    """Whether the session's connection has a transaction open at the database (SQLAlchemy's asyncpg adapter
    sends BEGIN with the first statement it runs; what ran on the driver alone was autocommitted)."""
    transaction = session.sync_session.get_transaction()
    if transaction is None:
        return False
    remembered = session.info.get(_DRIVER)
    if remembered is None or remembered[0] is not transaction:
        return True  # a connection this module did not hand out: assume the worst, the caller commits
    return bool(remembered[1].is_in_transaction())


def connection_lost(session: AsyncSession) -> bool:
    """Whether the connection this module handed the session is closed (the server ended it, the network cut it):
    SQLAlchemy did not see the error, which came from the driver, and would return it to the pool as it is, to fail
    the next call that draws it."""
    remembered = session.info.get(_DRIVER)
    return remembered is not None and bool(remembered[1].is_closed())


@cache
def columns(model: type[Base]) -> tuple[str, ...]:
    """The model's column names, in a fixed order (they are its attribute names)."""
    return tuple(attr.key for attr in inspect(model).column_attrs)


def row_of(model: type[Base], alias: str) -> str:
    """``ROW(alias.column, …)``: an anonymous record, so that a statement's result type never names a table's row
    type (a table rebuilt by a migration would then invalidate the prepared statement)."""
    return "ROW(" + ", ".join(f"{alias}.{name}" for name in columns(model)) + ")"


@cache
def _json_columns(model: type[Base]) -> frozenset[str]:
    return frozenset(attr.key for attr in inspect(model).column_attrs if isinstance(attr.columns[0].type, JSON))


def detached(model: type[M], record: Sequence[Any]) -> M:
    """An instance of ``model`` built from a record selected with :func:`row_of`: a copy for reading, in no session,
    so changing it saves nothing. JSON columns arrive as text (the codec SQLAlchemy installs on its connections)
    and are parsed here."""
    values = dict(zip(columns(model), record, strict=True))
    for name in _json_columns(model):
        if isinstance(values.get(name), str):
            values[name] = orjson.loads(values[name])
    # Not ``model(**values)``: the mapped constructor records every value as a change (~25 µs a dossier); this
    # makes the bare instance and sets the loaded values, as a query's rows would have them (~3 µs).
    instance: M = manager_of_class(model).new_instance()
    instance.__dict__.update(values)
    return instance
