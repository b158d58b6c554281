"""audit log: append-only, monthly partitions, hash chains

Revision ID: 75a27530789b
Revises: b49f96edd8cb
Create Date: 2026-11-22 23:06:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "75a27530789b"
down_revision: str | Sequence[str] | None = "b49f96edd8cb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trace_id", sa.String(36), nullable=False),
        sa.Column("user_ssin", sa.String(11), nullable=False),
        sa.Column("organisation", sa.String(10), nullable=False),
        sa.Column("organisation_type", sa.String(32), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.String(40)), nullable=False),
        sa.Column("operation", sa.String(80), nullable=False),
        sa.Column("resource_type", sa.String(40), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=True),
        sa.Column("person_ssin", sa.String(11), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("chain_id", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "seq", "occurred_at", name=op.f("pk_audit_event")),
        sa.CheckConstraint("outcome IN ('permit', 'deny')", name=op.f("ck_audit_event_outcome")),
        postgresql_partition_by="RANGE (occurred_at)",
    )
    op.create_index("ix_audit_event_person_time", "audit_event", ["person_ssin", "occurred_at"])
    op.create_index("ix_audit_event_organisation_time", "audit_event", ["organisation", "occurred_at"])
    # Rows outside every monthly partition land here rather than failing the call that writes them.
    op.execute("CREATE TABLE audit_event_default PARTITION OF audit_event DEFAULT")
    op.execute(
        """
        CREATE FUNCTION rp_ensure_audit_partitions(first_month date, months integer) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE
            start_month date := date_trunc('month', first_month)::date;
            month_start date;
        BEGIN
            FOR i IN 0 .. months - 1 LOOP
                month_start := (start_month + make_interval(months => i))::date;
                EXECUTE format(
                    'CREATE TABLE IF NOT EXISTS %I PARTITION OF audit_event FOR VALUES FROM (%L) TO (%L)',
                    'audit_event_' || to_char(month_start, 'YYYY_MM'),
                    month_start,
                    (month_start + interval '1 month')::date
                );
            END LOOP;
        END $$
        """
    )
    op.execute("SELECT rp_ensure_audit_partitions((current_date - interval '1 month')::date, 4)")
    op.execute(
        """
        CREATE FUNCTION rp_audit_event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_event is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION rp_audit_event_is_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION rp_audit_event_is_append_only()"
    )

    op.create_table(
        "audit_chain_head",
        sa.Column("chain_id", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("pk_audit_chain_head")),
    )
    # AUDIT_CHAINS (16) chains, numbered 0-15, each starting from the all-zero genesis hash.
    op.execute(
        "INSERT INTO audit_chain_head (chain_id, seq, hash) "
        "SELECT n, 0, decode(repeat('00', 32), 'hex') FROM generate_series(0, 15) AS n"
    )


def downgrade() -> None:
    op.drop_table("audit_chain_head")
    op.drop_table("audit_event")
    op.execute("DROP FUNCTION rp_audit_event_is_append_only()")
    op.execute("DROP FUNCTION rp_ensure_audit_partitions(date, integer)")
