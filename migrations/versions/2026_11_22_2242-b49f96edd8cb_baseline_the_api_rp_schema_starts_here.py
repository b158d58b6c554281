"""baseline: the API RP schema starts here

The first revision holds no table: later revisions (link cache, audit log, dossiers) build on it, and a
database stamped here is known to be an API RP database.

Revision ID: b49f96edd8cb
Revises:
Create Date: 2026-11-22 22:42:36.663637+00:00
"""

from collections.abc import Sequence

revision: str = "b49f96edd8cb"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
