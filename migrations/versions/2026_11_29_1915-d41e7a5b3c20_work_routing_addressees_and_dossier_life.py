"""work routing: addressees from the person's links, and the dossier's life

``addressee`` says which organisations a registration form or a request is addressed to (its work lists, its
feed): computed from the person's links (insurer, regional services) and the item's own parties (creator,
requester, INAMI once a request reaches it, the prevention service whose physician wrote the form) each time the
item changes. It replaces ``request_party``, whose rows become the requests' addressees. An addressee is never
trusted on its own: every list and feed re-checks the person's current links.

A dossier is ``active`` (was ``open``) while a form or request is open and ``closed`` when the trajectory ends or
its insurer or INAMI closes it (``closed_at``, ``closed_by``). Work lists page on (updated_at, id) of requests and
forms, decision lists chosen by ``changedSince`` on (decided_at, id): each has its index.

Revision ID: d41e7a5b3c20
Revises: 94233462c769
Create Date: 2026-11-29 19:15:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d41e7a5b3c20"
down_revision: str | Sequence[str] | None = "94233462c769"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "addressee",
        sa.Column("resource_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("enterprise_number", sa.String(10), nullable=False),
        sa.Column("resource_type", sa.String(24), nullable=False),
        sa.Column("dossier_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_addressee_dossier_id_dossier"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("resource_id", "enterprise_number", name=op.f("pk_addressee")),
    )
    op.create_index(
        "ix_addressee_organisation", "addressee", ["enterprise_number", "resource_type", "resource_id"], unique=False
    )
    op.create_index("ix_addressee_dossier", "addressee", ["dossier_id"], unique=False)
    op.execute(
        "INSERT INTO addressee (resource_id, enterprise_number, resource_type, dossier_id)"
        " SELECT p.request_id, p.enterprise_number, 'request', r.dossier_id"
        " FROM request_party p JOIN request r ON r.id = p.request_id"
    )
    op.drop_index("ix_request_party_organisation", table_name="request_party")
    op.drop_table("request_party")
    op.create_index("ix_request_updated_at_id", "request", ["updated_at", "id"], unique=False)
    op.create_index("ix_registration_form_updated_at_id", "registration_form", ["updated_at", "id"], unique=False)
    op.create_index("ix_decision_decided_at_id", "decision", ["decided_at", "id"], unique=False)

    op.add_column("dossier", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("dossier", sa.Column("closed_by", sa.String(10), nullable=True))
    op.execute("UPDATE dossier SET status = 'active' WHERE status = 'open'")


def downgrade() -> None:
    op.execute("UPDATE dossier SET status = 'open' WHERE status = 'active'")
    op.drop_column("dossier", "closed_by")
    op.drop_column("dossier", "closed_at")
    op.drop_index("ix_decision_decided_at_id", table_name="decision")
    op.drop_index("ix_registration_form_updated_at_id", table_name="registration_form")
    op.drop_index("ix_request_updated_at_id", table_name="request")
    op.create_table(
        "request_party",
        sa.Column("request_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("enterprise_number", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["request.id"], name=op.f("fk_request_party_request_id_request"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("request_id", "enterprise_number", name=op.f("pk_request_party")),
    )
    op.create_index("ix_request_party_organisation", "request_party", ["enterprise_number", "request_id"], unique=False)
    op.execute(
        "INSERT INTO request_party (request_id, enterprise_number)"
        " SELECT resource_id, enterprise_number FROM addressee WHERE resource_type = 'request'"
    )
    op.drop_index("ix_addressee_dossier", table_name="addressee")
    op.drop_index("ix_addressee_organisation", table_name="addressee")
    op.drop_table("addressee")
