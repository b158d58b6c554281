"""The migrations build exactly the schema the models describe (alembic's autogenerate finds nothing to do)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncConnection

import rp_api.models  # noqa: F401 - registers the tables
from rp_api.models.base import Base


def _ignored(diff: Any) -> bool:
    """Partitions of the audit log (and their indexes) are made by a database function at run time."""
    if not isinstance(diff, tuple):
        return False
    kind, item = diff[0], diff[1]
    table = getattr(item, "table", item)
    return kind in ("remove_table", "remove_index") and str(getattr(table, "name", "")).startswith("audit_event_")


async def test_no_drift_between_models_and_migrations(connection: AsyncConnection) -> None:
    def compare(sync_connection: Any) -> list[Any]:
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
        return [diff for diff in compare_metadata(context, Base.metadata) if not _ignored(diff)]

    differences = await connection.run_sync(compare)
    assert differences == []
