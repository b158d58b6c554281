"""the trajectory after the decision, and the person's identity over time

``ssin_replacement``: each SSIN the National Register reported as replaced (deliberation 26/060 §7); the dossier
moved to the new SSIN, a call naming the old one is led to it. ``dossier_merge``: a dossier absorbed into another
because both SSINs of a replacement had one (its id still leads to the survivor).

``request.extends_request_id``: an extension (prolongation) is a new request linked to the decided one it extends.
``request_revision``: the content a request had before each amendment. ``follow_up``: the steps of a decided
trajectory (started, interrupted, resumed, ended, result), coded values only, listed by their date or by when they
were recorded. ``ix_hours_report_month_id``: the hours lists by month or period, keyset-paged.
``ix_feed_event_dossier``: a merge moves a dossier's feed events (and retention deletes them) without a scan.

Revision ID: e3d1291a1065
Revises: e7a3c9d1f482
Create Date: 2026-11-29 22:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e3d1291a1065"
down_revision: str | Sequence[str] | None = "e7a3c9d1f482"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ssin_replacement",
        sa.Column("old_ssin", sa.String(11), nullable=False),
        sa.Column("new_ssin", sa.String(11), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("trace_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("old_ssin", name=op.f("pk_ssin_replacement")),
    )
    op.create_index("ix_ssin_replacement_new_ssin", "ssin_replacement", ["new_ssin"], unique=False)
    op.create_table(
        "dossier_merge",
        sa.Column("absorbed_dossier_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("survivor_dossier_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("absorbed_ssin", sa.String(11), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("trace_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["survivor_dossier_id"],
            ["dossier.id"],
            name=op.f("fk_dossier_merge_survivor_dossier_id_dossier"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("absorbed_dossier_id", name=op.f("pk_dossier_merge")),
    )
    op.create_index("ix_dossier_merge_survivor", "dossier_merge", ["survivor_dossier_id"], unique=False)

    op.add_column("request", sa.Column("extends_request_id", postgresql.UUID(as_uuid=True), nullable=True))
    op.create_foreign_key(
        op.f("fk_request_extends_request_id_request"), "request", "request", ["extends_request_id"], ["id"]
    )
    op.create_table(
        "request_revision",
        sa.Column("request_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("amended_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("amended_by", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["request.id"], name=op.f("fk_request_revision_request_id_request"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("request_id", "version", name=op.f("pk_request_revision")),
    )
    op.create_table(
        "follow_up",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("request_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("dossier_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("result", sa.String(40), nullable=True),
        sa.Column("recorded_by", sa.String(10), nullable=False),
        sa.Column("recorded_by_role", sa.String(40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["request.id"], name=op.f("fk_follow_up_request_id_request"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_follow_up_dossier_id_dossier"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up")),
    )
    op.create_index("ix_follow_up_request", "follow_up", ["request_id", "occurred_on"], unique=False)
    op.create_index("ix_follow_up_occurred_on_id", "follow_up", ["occurred_on", "id"], unique=False)
    op.create_index("ix_follow_up_recorded_at_id", "follow_up", ["recorded_at", "id"], unique=False)
    op.create_index("ix_hours_report_month_id", "hours_report", ["month", "id"], unique=False)
    op.create_index("ix_feed_event_dossier", "feed_event", ["dossier_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_feed_event_dossier", table_name="feed_event")
    op.drop_index("ix_hours_report_month_id", table_name="hours_report")
    op.drop_index("ix_follow_up_recorded_at_id", table_name="follow_up")
    op.drop_index("ix_follow_up_occurred_on_id", table_name="follow_up")
    op.drop_index("ix_follow_up_request", table_name="follow_up")
    op.drop_table("follow_up")
    op.drop_table("request_revision")
    op.drop_constraint(op.f("fk_request_extends_request_id_request"), "request", type_="foreignkey")
    op.drop_column("request", "extends_request_id")
    op.drop_index("ix_dossier_merge_survivor", table_name="dossier_merge")
    op.drop_table("dossier_merge")
    op.drop_index("ix_ssin_replacement_new_ssin", table_name="ssin_replacement")
    op.drop_table("ssin_replacement")
