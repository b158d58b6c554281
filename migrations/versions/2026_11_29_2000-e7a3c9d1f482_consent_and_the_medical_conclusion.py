"""consent records, and the medical inspector's non-medical conclusion

``consent``: the person's consent as the dossier records it (deliberation 26/060 §63: the persons are informed through
a consent form): the form's version, the date it was given, who recorded it, its scope, and its withdrawal. What
needs it (the occupational physician's registration form, an occupational physician's messages to the employment
partner) is refused until a consent of that scope is in force. At most one consent of a scope is in force per dossier
(a partial unique index).

``request.medical_conclusion`` and ``request.conclusion_remarks``: beside the medical advice (health data, physicians
only), the medical inspector's conclusion for the social expert (§49-50): compatible, notCompatible or
compatibleWithConditions, with non-medical remarks.

Revision ID: e7a3c9d1f482
Revises: d41e7a5b3c20
Create Date: 2026-11-29 20:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e7a3c9d1f482"
down_revision: str | Sequence[str] | None = "d41e7a5b3c20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("dossier_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("form_version", sa.String(40), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("recorded_by_organisation", sa.String(10), nullable=False),
        sa.Column("recorded_by_role", sa.String(40), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_organisation", sa.String(10), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_consent_dossier_id_dossier"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    op.create_index("ix_consent_dossier", "consent", ["dossier_id", "scope"], unique=False)
    op.create_index(
        "ux_consent_in_force",
        "consent",
        ["dossier_id", "scope"],
        unique=True,
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )
    op.add_column("request", sa.Column("medical_conclusion", sa.String(32), nullable=True))
    op.add_column("request", sa.Column("conclusion_remarks", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("request", "conclusion_remarks")
    op.drop_column("request", "medical_conclusion")
    op.drop_index("ux_consent_in_force", table_name="consent")
    op.drop_index("ix_consent_dossier", table_name="consent")
    op.drop_table("consent")
