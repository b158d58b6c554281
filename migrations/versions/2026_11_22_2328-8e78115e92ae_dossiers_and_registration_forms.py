"""dossiers and registration forms, participants, idempotency records

Revision ID: 8e78115e92ae
Revises: b8db6f4f332a
Create Date: 2026-11-22 23:28:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "8e78115e92ae"
down_revision: str | Sequence[str] | None = "b8db6f4f332a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dossier",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("ssin", sa.String(11), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier")),
        sa.UniqueConstraint("ssin", name=op.f("uq_dossier_ssin")),
    )
    op.create_index("ix_dossier_updated_at_id", "dossier", ["updated_at", "id"])
    op.create_table(
        "dossier_participant",
        sa.Column("dossier_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("enterprise_number", sa.String(10), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_dossier_participant_dossier_id_dossier"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dossier_id", "enterprise_number", name=op.f("pk_dossier_participant")),
    )
    op.create_index("ix_dossier_participant_organisation", "dossier_participant", ["enterprise_number", "dossier_id"])
    op.create_table(
        "registration_form",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("dossier_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("routing", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by_organisation", sa.String(10), nullable=False),
        sa.Column("created_by_type", sa.String(32), nullable=False),
        sa.Column("created_by_role", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expectations", sa.Text(), nullable=True),
        sa.Column("work_problems", sa.Text(), nullable=True),
        sa.Column("incapacity_start_date", sa.Date(), nullable=True),
        sa.Column("insurer_contacts", postgresql.JSONB(), nullable=False),
        sa.Column("occupational_physician_name", sa.String(200), nullable=True),
        sa.Column("question_expectations", sa.Text(), nullable=True),
        sa.Column("question_functional_capacities", sa.Text(), nullable=True),
        sa.Column("in_target_group", sa.Boolean(), nullable=True),
        sa.Column("target_group_motivation", sa.Text(), nullable=True),
        sa.Column("target_group_decided_by", sa.String(10), nullable=True),
        sa.Column("target_group_decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_registration_form_dossier_id_dossier"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_form")),
    )
    op.create_index("ix_registration_form_dossier", "registration_form", ["dossier_id", "created_at"])
    op.create_table(
        "idempotency_record",
        sa.Column("organisation", sa.String(10), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", postgresql.JSONB(), nullable=True),
        sa.Column("headers", postgresql.JSONB(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("organisation", "key", name=op.f("pk_idempotency_record")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_record")
    op.drop_table("registration_form")
    op.drop_table("dossier_participant")
    op.drop_table("dossier")
