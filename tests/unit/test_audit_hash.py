"""The audit chain hash: the canonical JSON the database reassembles from fragments is exactly the documented
one (compact, sorted keys, UTF-8, UTC time to the microsecond), whatever the values hold."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
from hypothesis import given
from hypothesis import strategies as st

from rp_api.authz.audit import AuditRecord, chain_hash, fragments, timestamp

texts = st.text(max_size=40)
optional_texts = st.none() | texts


def documented_canonical(record: AuditRecord, *, chain_id: int, seq: int) -> bytes:
    return orjson.dumps(
        {
            "chainId": chain_id,
            "seq": seq,
            "id": str(record.id),
            "occurredAt": record.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "traceId": record.trace_id,
            "userSsin": record.user_ssin,
            "organisation": record.organisation,
            "organisationType": record.organisation_type,
            "roles": sorted(record.roles),
            "operation": record.operation,
            "resourceType": record.resource_type,
            "resourceId": record.resource_id,
            "personSsin": record.person_ssin,
            "outcome": record.outcome,
            "reason": record.reason,
            "legalBasis": record.legal_basis,
            **({} if record.status is None else {"status": record.status}),
        },
        option=orjson.OPT_SORT_KEYS,
    )


records = st.builds(
    AuditRecord,
    trace_id=texts,
    user_ssin=texts,
    organisation=texts,
    organisation_type=texts,
    roles=st.lists(texts, max_size=3).map(tuple),
    operation=texts,
    resource_type=texts,
    resource_id=optional_texts,
    person_ssin=texts,
    outcome=st.sampled_from(["permit", "deny"]),
    reason=texts,
    legal_basis=optional_texts,
    status=st.none() | st.integers(100, 599),
    id=st.uuids(),
    occurred_at=st.datetimes(
        min_value=datetime(2000, 1, 1), timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))])
    ),
)


@given(record=records, chain_id=st.integers(0, 15), seq=st.integers(1, 2**62))
def test_fragments_reassemble_the_documented_canonical_json(record: AuditRecord, chain_id: int, seq: int) -> None:
    rebuilt = fragments(record).canonical(chain_id=chain_id, occurred_at=timestamp(record.occurred_at), seq=seq)
    assert rebuilt == documented_canonical(record, chain_id=chain_id, seq=seq)


def test_chain_hash_is_sha256_of_previous_and_canonical_json() -> None:
    record = AuditRecord(
        trace_id="t",
        user_ssin="75050575724",
        organisation="0411159046",
        organisation_type="regionalService",
        roles=("referenceAdvisor", "listManager"),
        operation="readDossier",
        resource_type="dossier",
        resource_id=None,
        person_ssin="85073003328",
        outcome="permit",
        reason="regionalRegistration",
        legal_basis="CSI/CSSS 26/060",
        id=uuid.UUID(int=7),
        occurred_at=datetime(2026, 11, 23, 6, 45, tzinfo=UTC),
    )
    previous = bytes(range(32))
    expected = hashlib.sha256(previous + documented_canonical(record, chain_id=3, seq=12)).digest()
    assert chain_hash(previous, record, chain_id=3, seq=12) == expected
    assert b'"occurredAt":"2026-11-23T06:45:00.000000+00:00"' in documented_canonical(record, chain_id=3, seq=12)
