"""audit append in one statement

The request's audit records are appended by one call of ``rp_audit_append``: it takes a free chain head
(``FOR UPDATE SKIP LOCKED``, else waits on a random one), stamps the records under that lock, chains their hashes
and moves the head, in one round trip instead of four (head, COPY's type query, COPY, head update).

The hash is the one of ``rp_api.authz.audit.chain_hash``: SHA-256 of the previous hash and the record's canonical
JSON. The application sends each record's canonical JSON cut in three fragments around the three values only the
database knows (chain id, time, seq); the function puts them back together byte for byte.

Revision ID: c3f1a9d27e54
Revises: aa5d06cff3f3
Create Date: 2026-11-23 06:45:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c3f1a9d27e54"
down_revision: str | Sequence[str] | None = "aa5d06cff3f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND = """
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
    op.execute(APPEND)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION rp_audit_append(timestamptz, uuid[], text[], text[], text[], text[], text[], text[], text[], "
        "text[], text[], text[], text[], text[], text[], text[], text[])"
    )
