"""The audit chain: the canonical JSON the database reassembles from fragments is exactly the documented one
(compact, sorted keys, UTF-8, UTC time to the microsecond), whatever the values hold; a keyed record's MAC covers
its content, its link the previous link, its canonical JSON with chain id and seq, and its MAC; legacy records link
as they always did."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
from hypothesis import given
from hypothesis import strategies as st

from rp_api.audit_chain import canonical, chain_hash, link, mac, timestamp
from rp_api.authz.audit import AuditRecord

texts = st.text(max_size=40)
optional_texts = st.none() | texts


def documented(record: AuditRecord, *, key_id: str | None = None, **place: int) -> bytes:
    """The documented canonical JSON; with ``chain_id`` and ``seq``, the linked form, else the content."""
    return orjson.dumps(
        {
            **({"chainId": place["chain_id"], "seq": place["seq"]} if place else {}),
            **({} if key_id is None else {"keyId": key_id}),
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


def documented_canonical(record: AuditRecord, *, chain_id: int, seq: int) -> bytes:
    return documented(record, chain_id=chain_id, seq=seq)


@given(
    record=records,
    chain_id=st.integers(0, 15),
    seq=st.integers(1, 2**62),
    key_id=st.none() | st.from_regex(r"[A-Za-z0-9._-]{1,32}", fullmatch=True),
)
def test_fragments_reassemble_the_documented_canonical_json(
    record: AuditRecord, chain_id: int, seq: int, key_id: str | None
) -> None:
    cut = canonical(record, occurred_at=record.occurred_at, key_id=key_id)
    assert cut.linked(chain_id=chain_id, seq=seq) == documented(record, key_id=key_id, chain_id=chain_id, seq=seq)
    assert cut.content == documented(record, key_id=key_id)


def sample() -> AuditRecord:
    return AuditRecord(
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


def test_legacy_chain_hash_is_sha256_of_previous_and_canonical_json() -> None:
    record = sample()
    previous = bytes(range(32))
    expected = hashlib.sha256(previous + documented_canonical(record, chain_id=3, seq=12)).digest()
    assert chain_hash(previous, record, chain_id=3, seq=12) == expected
    assert b'"occurredAt":"2026-11-23T06:45:00.000000+00:00"' in documented_canonical(record, chain_id=3, seq=12)


def test_a_keyed_record_is_maced_on_its_content_and_linked_with_its_mac() -> None:
    record, key, previous = sample(), bytes(range(32, 64)), bytes(range(32))
    cut = canonical(record, occurred_at=record.occurred_at, key_id="k2026")
    expected_mac = hmac.new(key, documented(record, key_id="k2026"), "sha256").digest()
    assert mac(key, cut.content) == expected_mac
    linked = documented(record, key_id="k2026", chain_id=3, seq=12)
    assert (
        link(previous, cut.linked(chain_id=3, seq=12), expected_mac)
        == hashlib.sha256(previous + linked + expected_mac).digest()
    )
    assert b'"keyId":"k2026"' in cut.content
    assert b"chainId" not in cut.content
    assert b'"seq"' not in cut.content


def test_the_time_is_the_one_given_in_utc() -> None:
    moment = datetime(2026, 11, 23, 7, 45, 0, 123, tzinfo=timezone(timedelta(hours=1)))
    assert timestamp(moment) == "2026-11-23T06:45:00.000123+00:00"
    assert b"2026-11-23T06:45:00.000123+00:00" in canonical(sample(), occurred_at=moment, key_id="k").content
