"""audit records carry the HTTP status the caller got

Each audit record now says what the call's answer was (``status``: 200, 201, 403, 404, 409, 503…), beside its
outcome and reason. The record is written once the call's outcome is known, so the status is the one the caller
got. Older records have none (NULL); their canonical JSON has no ``status`` member, so they verify as before, and a
record with a status has ``"status":N`` in its canonical JSON (between ``seq`` and ``traceId``).

``rp_audit_append`` takes the statuses as one more array.

Revision ID: 5e2b7c0d9a13
Revises: c3f1a9d27e54
Create Date: 2026-11-29 16:45:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e2b7c0d9a13"
down_revision: str | Sequence[str] | None = "c3f1a9d27e54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SIGNATURE = (
    "rp_audit_append(timestamptz, uuid[], text[], text[], text[], text[], text[], text[], text[], "
    "text[], text[], text[], text[], text[], text[], text[], text[])"
)
NEW_SIGNATURE = (
    "rp_audit_append(timestamptz, uuid[], text[], text[], text[], text[], text[], text[], text[], "
    "text[], text[], text[], text[], text[], smallint[], text[], text[], text[])"
)
APPEND = """
CREATE FUNCTION rp_audit_append(
    at timestamptz, ids uuid[], trace_ids text[], user_ssins text[], organisations text[], organisation_types text[],
    roles text[], operations text[], resource_types text[], resource_ids text[], person_ssins text[], outcomes text[],
    reasons text[], legal_bases text[], statuses smallint[], after_chain text[], after_time text[],
    after_seq text[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    chain smallint;
    last_seq bigint;
    previous bytea;
    stamp text;
    seqs bigint[] := '{}';
    prev_hashes bytea[] := '{}';
    hashes bytea[] := '{}';
BEGIN
    SELECT chain_id, seq, hash INTO chain, last_seq, previous
    FROM audit_chain_head ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN  -- every chain is being written right now: queue on one of them
        SELECT chain_id, seq, hash INTO chain, last_seq, previous FROM audit_chain_head
        WHERE chain_id = (SELECT chain_id FROM audit_chain_head ORDER BY random() LIMIT 1) FOR UPDATE;
    END IF;
    -- Stamped under the chain's lock, so that time follows seq within a chain (retention drops by time).
    at := coalesce(at, clock_timestamp());
    stamp := to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00';
    FOR i IN 1 .. coalesce(cardinality(ids), 0) LOOP
        last_seq := last_seq + 1;
        seqs := seqs || last_seq;
        prev_hashes := prev_hashes || previous;
        previous := sha256(previous || convert_to(
            '{"chainId":' || chain || after_chain[i] || stamp || after_time[i] || last_seq || after_seq[i], 'UTF8'
        ));
        hashes := hashes || previous;
    END LOOP;
    INSERT INTO audit_event (
        chain_id, seq, occurred_at, id, trace_id, user_ssin, organisation, organisation_type, roles, operation,
        resource_type, resource_id, person_ssin, outcome, reason, legal_basis, status, prev_hash, hash
    )
    SELECT chain, r.seq, at, r.id, r.trace_id, r.user_ssin, r.organisation, r.organisation_type,
        string_to_array(r.roles, ','), r.operation, r.resource_type, r.resource_id, r.person_ssin, r.outcome, r.reason,
        r.legal_basis, r.status, r.prev_hash, r.hash
    FROM unnest(
        seqs, ids, trace_ids, user_ssins, organisations, organisation_types, roles, operations, resource_types,
        resource_ids, person_ssins, outcomes, reasons, legal_bases, statuses, prev_hashes, hashes
    ) AS r(
        seq, id, trace_id, user_ssin, organisation, organisation_type, roles, operation, resource_type, resource_id,
        person_ssin, outcome, reason, legal_basis, status, prev_hash, hash
    );
    UPDATE audit_chain_head SET seq = last_seq, hash = previous, updated_at = now() WHERE chain_id = chain;
END
$$
"""

PREVIOUS_APPEND = """
CREATE FUNCTION rp_audit_append(
    at timestamptz, ids uuid[], trace_ids text[], user_ssins text[], organisations text[], organisation_types text[],
    roles text[], operations text[], resource_types text[], resource_ids text[], person_ssins text[], outcomes text[],
    reasons text[], legal_bases text[], after_chain text[], after_time text[], after_seq text[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    chain smallint;
    last_seq bigint;
    previous bytea;
    stamp text;
    seqs bigint[] := '{}';
    prev_hashes bytea[] := '{}';
    hashes bytea[] := '{}';
BEGIN
    SELECT chain_id, seq, hash INTO chain, last_seq, previous
    FROM audit_chain_head ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN  -- every chain is being written right now: queue on one of them
        SELECT chain_id, seq, hash INTO chain, last_seq, previous FROM audit_chain_head
        WHERE chain_id = (SELECT chain_id FROM audit_chain_head ORDER BY random() LIMIT 1) FOR UPDATE;
    END IF;
    -- Stamped under the chain's lock, so that time follows seq within a chain (retention drops by time).
    at := coalesce(at, clock_timestamp());
    stamp := to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00';
    FOR i IN 1 .. coalesce(cardinality(ids), 0) LOOP
        last_seq := last_seq + 1;
        seqs := seqs || last_seq;
        prev_hashes := prev_hashes || previous;
        previous := sha256(previous || convert_to(
            '{"chainId":' || chain || after_chain[i] || stamp || after_time[i] || last_seq || after_seq[i], 'UTF8'
        ));
        hashes := hashes || previous;
    END LOOP;
    INSERT INTO audit_event (
        chain_id, seq, occurred_at, id, trace_id, user_ssin, organisation, organisation_type, roles, operation,
        resource_type, resource_id, person_ssin, outcome, reason, legal_basis, prev_hash, hash
    )
    SELECT chain, r.seq, at, r.id, r.trace_id, r.user_ssin, r.organisation, r.organisation_type,
        string_to_array(r.roles, ','), r.operation, r.resource_type, r.resource_id, r.person_ssin, r.outcome, r.reason,
        r.legal_basis, r.prev_hash, r.hash
    FROM unnest(
        seqs, ids, trace_ids, user_ssins, organisations, organisation_types, roles, operations, resource_types,
        resource_ids, person_ssins, outcomes, reasons, legal_bases, prev_hashes, hashes
    ) AS r(
        seq, id, trace_id, user_ssin, organisation, organisation_type, roles, operation, resource_type, resource_id,
        person_ssin, outcome, reason, legal_basis, prev_hash, hash
    );
    UPDATE audit_chain_head SET seq = last_seq, hash = previous, updated_at = now() WHERE chain_id = chain;
END
$$
"""


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("status", sa.SmallInteger(), nullable=True))
    op.execute(f"DROP FUNCTION {OLD_SIGNATURE}")
    op.execute(APPEND)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {NEW_SIGNATURE}")
    op.execute(PREVIOUS_APPEND)
    op.drop_column("audit_event", "status")
