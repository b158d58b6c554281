"""idempotency records keep ids, not answers

An idempotency key now belongs to one user of one organisation (``user_key``: a digest of the token's issuer and
subject, never the user's SSIN itself) and its record keeps the first answer's status and the id of the resource
it created — never the answer's body: a replay reads the resource again through the person guard, for the caller as
they are now. Records written before keep answer bodies (names, health data): they are deleted, not converted (a
retry with such a key simply runs again, as after the 7-day retention).

Revision ID: 7c4d1e9b2f60
Revises: 5e2b7c0d9a13
Create Date: 2026-11-29 17:20:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7c4d1e9b2f60"
down_revision: str | Sequence[str] | None = "5e2b7c0d9a13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_record")
    op.drop_constraint("pk_idempotency_record", "idempotency_record", type_="primary")
    op.drop_column("idempotency_record", "body")
    op.drop_column("idempotency_record", "headers")
    op.add_column("idempotency_record", sa.Column("user_key", sa.String(64), nullable=False))
    op.add_column("idempotency_record", sa.Column("resource_id", postgresql.UUID(as_uuid=True), nullable=True))
    op.create_primary_key("pk_idempotency_record", "idempotency_record", ["organisation", "user_key", "key"])


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_record")
    op.drop_constraint("pk_idempotency_record", "idempotency_record", type_="primary")
    op.drop_column("idempotency_record", "resource_id")
    op.drop_column("idempotency_record", "user_key")
    op.add_column("idempotency_record", sa.Column("headers", postgresql.JSONB(), nullable=True))
    op.add_column("idempotency_record", sa.Column("body", postgresql.JSONB(), nullable=True))
    op.create_primary_key("pk_idempotency_record", "idempotency_record", ["organisation", "key"])
