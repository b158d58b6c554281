"""audit log the runtime role cannot change

The audit log resists a determined insider holding the service's own database role, not only a careless hand:

- **Two roles** (``rp_api.migrate``): the owner role owns every table and function (``migrations/env.py`` runs the
  migrations as it); the runtime role, which the service logs in as, gets SELECT, INSERT, UPDATE, DELETE on the
  service's tables (and, by default privileges, on the tables later migrations make), and on the audit log only
  SELECT and EXECUTE on two SECURITY DEFINER functions with a fixed ``search_path``: ``rp_audit_append`` and
  ``rp_audit_upkeep``. No UPDATE, DELETE, TRUNCATE, INSERT, ALTER, trigger switching or DROP: it owns nothing.
- **Keyed records**: ``audit_event.key_id`` and ``mac`` (HMAC-SHA256 of the record's content, computed by the
  application under a key the database never holds). A record's link is SHA-256 of the previous link, its canonical
  JSON (with ``keyId``) and its MAC. Existing records keep their unkeyed links (``key_id`` NULL: legacy);
  ``audit_chain_head.legacy_until`` keeps each chain's last legacy seq.
- **The database's clock**: ``rp_audit_append`` refuses a time more than 5 s behind or 1 s ahead of
  ``clock_timestamp()``. Writers stamp before they take a chain, so a chain's records may be a few seconds out of
  time order, but never across a month (retention drops a month at a time, and anchors each chain on its last
  dropped record): a chain whose latest record (``audit_chain_head.last_at``) is of a later month is not taken;
  when every free chain is like that (seconds after a month began), the function appends nothing and answers by
  how much later, and the application stamps again and calls again (the chain is its own by then). It answers NULL
  when it appended.
- **Upkeep through one function**: ``rp_audit_upkeep(today, months_ahead, first_kept)`` creates the coming monthly
  partitions (each with the TRUNCATE guard and no privilege for anyone but the owner), anchors the chains and drops
  the partitions before ``first_kept``, and refuses a partition younger than ``audit_retention.months`` by the
  database's own clock. Every existing partition gets the TRUNCATE guard too (a trigger on the parent does not
  fire for a partition truncated on its own).

Revision ID: 94233462c769
Revises: 7c4d1e9b2f60
Create Date: 2026-11-29 18:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rp_api.migrate import roles

revision: str = "94233462c769"
down_revision: str | Sequence[str] | None = "7c4d1e9b2f60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_RETENTION_MONTHS = 120

PREVIOUS_APPEND_SIGNATURE = (
    "rp_audit_append(timestamptz, uuid[], text[], text[], text[], text[], text[], text[], text[], "
    "text[], text[], text[], text[], text[], smallint[], text[], text[], text[])"
)
APPEND_SIGNATURE = (
    "rp_audit_append(timestamptz, text, uuid[], text[], text[], text[], text[], text[], text[], text[], text[], "
    "text[], text[], text[], text[], smallint[], text[], text[], bytea)"
)
UPKEEP_SIGNATURE = "rp_audit_upkeep(date, integer, date)"
ENSURE_SIGNATURE = "rp_ensure_audit_partitions(date, integer)"
TRIGGER_FUNCTION_SIGNATURE = "rp_audit_event_is_append_only()"
AUDIT_TABLES = ("audit_event", "audit_chain_head", "audit_chain_anchor", "audit_retention")

APPEND = """
CREATE FUNCTION rp_audit_append(
    at timestamptz, key_id text, ids uuid[], trace_ids text[], user_ssins text[], organisations text[],
    organisation_types text[], roles text[], operations text[], resource_types text[], resource_ids text[],
    person_ssins text[], outcomes text[], reasons text[], legal_bases text[], statuses smallint[],
    after_chain text[], after_seq text[], macs bytea
) RETURNS interval
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    server_time timestamptz := clock_timestamp();
    n integer := coalesce(cardinality(ids), 0);
    chain smallint;
    last_seq bigint;
    previous bytea;
    last_time timestamptz;
    tried smallint[];
    ahead interval;
    record_mac bytea;
    seqs bigint[] := '{}';
    prev_hashes bytea[] := '{}';
    hashes bytea[] := '{}';
BEGIN
    -- The time is the database's, within what the trip from the application takes: no caller dates a record.
    -- (A record without a key id or a 32-byte MAC is refused by the table's constraint ck_audit_event_keyed.)
    IF at IS NULL OR at < server_time - interval '5 seconds' OR at > server_time + interval '1 second' THEN
        RAISE EXCEPTION 'audit record time % refused: the database''s clock says %', at, server_time
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    -- A free chain on which these records keep every month's records together: its last record is not later, or
    -- is of the same month (UTC and the session's time zone, which the partitions were made in). Retention drops
    -- a month at a time and anchors each chain on its last dropped record, so no record of a chain may follow one
    -- of a later month. A chain is locked before its time is read (a condition on it in the locking query would
    -- lock rows that it then skips).
    SELECT h.chain_id, h.seq, h.hash, h.last_at INTO chain, last_seq, previous, last_time
    FROM audit_chain_head h ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
    -- (A query with no parameter, the one of nearly every call: its plan is made once. With the list of chains
    -- tried as a parameter it was planned again at every call, ~45 µs.)
    WHILE chain IS NOT NULL AND last_time > at AND (
        date_trunc('month', last_time AT TIME ZONE 'UTC') <> date_trunc('month', at AT TIME ZONE 'UTC')
        OR date_trunc('month', last_time) <> date_trunc('month', at)
    ) LOOP
        tried := tried || chain;
        ahead := least(ahead, last_time - at);
        SELECT h.chain_id, h.seq, h.hash, h.last_at INTO chain, last_seq, previous, last_time
        FROM audit_chain_head h WHERE h.chain_id <> ALL (tried) ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
    END LOOP;
    IF chain IS NULL THEN
        IF ahead IS NOT NULL THEN
            -- Seconds from a new month, the free chains have records of it: the caller stamps again (after
            -- ``ahead``) and takes one of them, by then its own. It waits for nothing here, so it cannot deadlock.
            RETURN ahead;
        END IF;
        -- Every chain is being written right now: queue on one of them, holding none.
        SELECT h.chain_id, h.seq, h.hash, h.last_at INTO chain, last_seq, previous, last_time FROM audit_chain_head h
        WHERE h.chain_id = (SELECT c.chain_id FROM audit_chain_head c ORDER BY random() LIMIT 1) FOR UPDATE;
        IF last_time > at AND (
            date_trunc('month', last_time AT TIME ZONE 'UTC') <> date_trunc('month', at AT TIME ZONE 'UTC')
            OR date_trunc('month', last_time) <> date_trunc('month', at)
        ) THEN
            RETURN last_time - at;  -- the caller stamps again, and the chain is its own
        END IF;
    END IF;
    FOR i IN 1 .. n LOOP
        last_seq := last_seq + 1;
        record_mac := substring(macs FROM i * 32 - 31 FOR 32);
        seqs := seqs || last_seq;
        prev_hashes := prev_hashes || previous;
        previous := sha256(previous || convert_to(
            '{"chainId":' || chain || after_chain[i] || last_seq || after_seq[i], 'UTF8'
        ) || record_mac);
        hashes := hashes || previous;
    END LOOP;
    INSERT INTO audit_event (
        chain_id, seq, occurred_at, id, trace_id, user_ssin, organisation, organisation_type, roles, operation,
        resource_type, resource_id, person_ssin, outcome, reason, legal_basis, status, key_id, mac, prev_hash, hash
    )
    SELECT chain, r.seq, at, r.id, r.trace_id, r.user_ssin, r.organisation, r.organisation_type,
        string_to_array(r.roles, ','), r.operation, r.resource_type, r.resource_id, r.person_ssin, r.outcome, r.reason,
        r.legal_basis, r.status, key_id, substring(macs FROM r.i::integer * 32 - 31 FOR 32), r.prev_hash, r.hash
    FROM unnest(
        seqs, ids, trace_ids, user_ssins, organisations, organisation_types, roles, operations, resource_types,
        resource_ids, person_ssins, outcomes, reasons, legal_bases, statuses, prev_hashes, hashes
    ) WITH ORDINALITY AS r(
        seq, id, trace_id, user_ssin, organisation, organisation_type, roles, operation, resource_type, resource_id,
        person_ssin, outcome, reason, legal_basis, status, prev_hash, hash, i
    );
    UPDATE audit_chain_head SET seq = last_seq, hash = previous, last_at = greatest(last_time, at), updated_at = now()
    WHERE chain_id = chain;
    RETURN NULL;  -- appended
END
$$
"""

ENSURE = """
CREATE OR REPLACE FUNCTION rp_ensure_audit_partitions(first_month date, months integer) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    start_month date := date_trunc('month', first_month)::date;
    month_start date;
    name text;
    grantee oid;
BEGIN
    FOR i IN 0 .. months - 1 LOOP
        month_start := (start_month + make_interval(months => i))::date;
        name := 'audit_event_' || to_char(month_start, 'YYYY_MM');
        CONTINUE WHEN to_regclass(format('public.%I', name)) IS NOT NULL;
        EXECUTE format(
            'CREATE TABLE public.%I PARTITION OF public.audit_event FOR VALUES FROM (%L) TO (%L)',
            name, month_start, (month_start + interval '1 month')::date
        );
        -- A trigger on the parent does not fire when a partition is truncated on its own.
        EXECUTE format(
            'CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON public.%I '
            'FOR EACH STATEMENT EXECUTE FUNCTION rp_audit_event_is_append_only()', name
        );
        -- Default privileges give new tables to the runtime role: not a partition of the audit log.
        FOR grantee IN
            SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.oid = format('public.%I', name)::regclass AND a.grantee <> c.relowner
        LOOP
            EXECUTE format('REVOKE ALL ON public.%I FROM %s', name,
                CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE grantee::regrole::text END);
        END LOOP;
    END LOOP;
END $$
"""

PREVIOUS_ENSURE = """
CREATE OR REPLACE FUNCTION rp_ensure_audit_partitions(first_month date, months integer) RETURNS void
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

UPKEEP = """
CREATE FUNCTION rp_audit_upkeep(today date, months_ahead integer, first_kept date) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    retention integer := (SELECT months FROM audit_retention);
    -- The first month the database keeps, by its own clock: no caller's date moves it.
    oldest_kept date := (date_trunc('month', clock_timestamp() AT TIME ZONE 'UTC')
        - make_interval(months => retention))::date;
    kept date := date_trunc('month', first_kept)::date;
    doomed text[];
    partition text;
BEGIN
    IF today IS NULL OR months_ahead IS NULL OR months_ahead NOT BETWEEN 0 AND 24 THEN
        RAISE EXCEPTION 'audit upkeep: a date and 0 to 24 months ahead' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM rp_ensure_audit_partitions(today, months_ahead);
    IF kept IS NULL THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(child.relname::text ORDER BY child.relname), '{}') INTO doomed
    FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid
    WHERE pg_inherits.inhparent = 'public.audit_event'::regclass
        AND child.relname ~ '^audit_event_[0-9]{4}_[0-9]{2}$'
        AND child.relname < 'audit_event_' || to_char(kept, 'YYYY_MM');
    FOREACH partition IN ARRAY doomed LOOP
        IF to_date(right(partition, 7), 'YYYY_MM') >= oldest_kept THEN
            RAISE EXCEPTION 'audit partition % is younger than the retention of % months: not dropped', partition,
                retention USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
    IF cardinality(doomed) = 0 THEN
        RETURN;
    END IF;
    -- Every chain resumes from its last dropped record, so that what remains still verifies.
    INSERT INTO audit_chain_anchor (chain_id, seq, hash, dropped_before)
    SELECT DISTINCT ON (chain_id) chain_id, seq, hash, kept::timestamp AT TIME ZONE 'UTC' FROM audit_event
    WHERE occurred_at < kept::timestamp AT TIME ZONE 'UTC' ORDER BY chain_id, seq DESC
    ON CONFLICT (chain_id) DO UPDATE
        SET seq = excluded.seq, hash = excluded.hash, dropped_before = excluded.dropped_before
        WHERE audit_chain_anchor.seq < excluded.seq;
    FOREACH partition IN ARRAY doomed LOOP
        EXECUTE format('DROP TABLE public.%I', partition);
        RETURN NEXT partition;
    END LOOP;
END $$
"""

PREVIOUS_APPEND = """
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

_PARTITIONS = """
SELECT child.relname FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid
WHERE pg_inherits.inhparent = 'public.audit_event'::regclass
"""


def _each_partition(statement: str) -> None:
    """``statement`` (with ``%I`` for the partition's name) on every partition of the audit log, default included."""
    op.execute(
        f"""
        DO $$ DECLARE name text; BEGIN
            FOR name IN {_PARTITIONS} LOOP
                EXECUTE format('{statement}', name);
            END LOOP;
        END $$
        """
    )


def upgrade() -> None:
    runtime = roles().runtime

    op.add_column("audit_event", sa.Column("key_id", sa.String(32), nullable=True))
    op.add_column("audit_event", sa.Column("mac", sa.LargeBinary(32), nullable=True))
    op.create_check_constraint(
        op.f("ck_audit_event_keyed"),
        "audit_event",
        "(key_id IS NULL AND mac IS NULL) OR (key_id IS NOT NULL AND octet_length(mac) = 32)",
    )
    op.add_column("audit_chain_head", sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("audit_chain_head", sa.Column("legacy_until", sa.BigInteger(), nullable=True))
    # Every record so far is legacy; its chain's last one is its latest (they were stamped under the head's lock).
    op.execute(
        "UPDATE audit_chain_head h SET legacy_until = h.seq, last_at = coalesce("
        "(SELECT e.occurred_at FROM audit_event e WHERE e.chain_id = h.chain_id AND e.seq = h.seq), '-infinity')"
    )
    op.alter_column("audit_chain_head", "last_at", nullable=False)
    op.alter_column("audit_chain_head", "legacy_until", nullable=False)
    op.create_table(
        "audit_retention",
        sa.Column("id", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_retention")),
        sa.CheckConstraint("id", name=op.f("ck_audit_retention_single_row")),
        sa.CheckConstraint("months >= 1", name=op.f("ck_audit_retention_months")),
    )
    op.execute(
        sa.text("INSERT INTO audit_retention (id, months) VALUES (true, :months)").bindparams(
            months=DEFAULT_RETENTION_MONTHS
        )
    )

    op.execute(f"DROP FUNCTION {PREVIOUS_APPEND_SIGNATURE}")
    op.execute(APPEND)
    op.execute(ENSURE)
    op.execute(UPKEEP)
    _each_partition(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON public.%I "
        "FOR EACH STATEMENT EXECUTE FUNCTION rp_audit_event_is_append_only()"
    )

    # The runtime role: what the service does on its own tables, today's and those of later migrations ...
    op.execute(
        f"""
        DO $$ DECLARE name text; kind "char"; BEGIN
            FOR name, kind IN
                SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S') AND NOT c.relispartition
                    AND c.relowner = current_user::regrole AND c.relname <> 'alembic_version'
                    AND c.relname NOT LIKE 'audit\\_%'
            LOOP
                IF kind = 'S' THEN
                    EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE public.%I TO {runtime}', name);
                ELSE
                    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO {runtime}', name);
                END IF;
            END LOOP;
        END $$
        """  # noqa: S608 - a role name the settings checked
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {runtime}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {runtime}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {runtime}")
    # ... and on the audit log: reading it, and the two functions.
    op.execute(f"REVOKE ALL ON {', '.join(AUDIT_TABLES)} FROM PUBLIC, {runtime}")
    _each_partition("REVOKE ALL ON public.%I FROM PUBLIC")
    _each_partition(f"REVOKE ALL ON public.%I FROM {runtime}")
    op.execute(f"GRANT SELECT ON audit_event, audit_chain_head, audit_chain_anchor TO {runtime}")
    for function in (APPEND_SIGNATURE, UPKEEP_SIGNATURE, ENSURE_SIGNATURE, TRIGGER_FUNCTION_SIGNATURE):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {APPEND_SIGNATURE}, {UPKEEP_SIGNATURE} TO {runtime}")
    # Nobody but the owner makes objects here (already so since PostgreSQL 15).
    op.execute(
        "DO $$ BEGIN IF has_schema_privilege('public', 'public', 'CREATE') "
        "AND pg_has_role((SELECT nspowner FROM pg_namespace WHERE nspname = 'public'), 'MEMBER') THEN "
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC; END IF; END $$"
    )


def downgrade() -> None:
    runtime = roles().runtime

    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {runtime}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {runtime}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {runtime}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {runtime}")
    op.execute(f"REVOKE ALL ON FUNCTION {APPEND_SIGNATURE}, {UPKEEP_SIGNATURE} FROM {runtime}")
    op.execute(f"DROP FUNCTION {UPKEEP_SIGNATURE}")
    op.execute(f"DROP FUNCTION {APPEND_SIGNATURE}")
    op.execute(PREVIOUS_APPEND)
    op.execute(PREVIOUS_ENSURE)
    for function in (PREVIOUS_APPEND_SIGNATURE, ENSURE_SIGNATURE, TRIGGER_FUNCTION_SIGNATURE):
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO PUBLIC")
    _each_partition("DROP TRIGGER IF EXISTS audit_event_no_truncate ON public.%I")
    op.drop_table("audit_retention")
    op.drop_column("audit_chain_head", "legacy_until")
    op.drop_column("audit_chain_head", "last_at")
    op.drop_constraint(op.f("ck_audit_event_keyed"), "audit_event", type_="check")
    op.drop_column("audit_event", "mac")
    op.drop_column("audit_event", "key_id")
