"""person link cache: what the authentic sources said, shared by every replica, kept 24 hours at most

Revision ID: b8db6f4f332a
Revises: 75a27530789b
Create Date: 2026-11-22 23:25:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b8db6f4f332a"
down_revision: str | Sequence[str] | None = "75a27530789b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_link_cache",
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("source", "subject", name=op.f("pk_person_link_cache")),
    )
    op.create_index("ix_person_link_cache_fetched_at", "person_link_cache", ["fetched_at"])


def downgrade() -> None:
    op.drop_table("person_link_cache")
