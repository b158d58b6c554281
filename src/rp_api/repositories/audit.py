"""Audit log queries: append keyed records to a free chain, walk the chains to verify them, keep the partitions.

The service runs as the runtime role: it appends only through ``rp_audit_append``, keeps partitions only through
``rp_audit_upkeep`` (SECURITY DEFINER functions of the owner role), and reads the rest.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.audit_chain import GENESIS_HASH, Checkpoint, Head, Keyring, canonical, chain_hash, link, timestamp
from rp_api.domain.audit import AuditRecord
from rp_api.domain.retention import audit_cutoff_month
from rp_api.models.audit import AuditChainAnchor, AuditChainHead, AuditEvent
from rp_api.repositories.driver import driver_of

KEYRING = "rp.audit.keyring"
"""Where a session finds the audit keys (``Session.info``; the app's sessionmakers put them there)."""

_UNIT = "\x1f"
"""ASCII unit separator: goes before each value of a column sent as one text (see :func:`joined`)."""
_NULL = "\x1e"
"""ASCII record separator: stands for a NULL value."""
_STAMPS = 3
"""Times a call stamps its records again, when the chain it gets has a record of a later month (see :func:`append`)."""


def _column(n: int, cast: str = "") -> str:
    """Parameter ``n`` (made by :func:`joined`) split back into an array; the first, empty, element dropped."""
    unit, null = (f"E'\\x{ord(char):02x}'" for char in (_UNIT, _NULL))
    return f"(string_to_array(${n}, {unit}, {null}))[2:]{cast}"


_COLUMNS = [
    _column(3, "::uuid[]"),
    *(_column(n) for n in range(4, 16)),
    _column(16, "::smallint[]"),
    _column(17),
    _column(18),
]
_APPEND = "SELECT rp_audit_append($1, $2, " + ", ".join(_COLUMNS) + ", $19)"


def joined(values: Sequence[str | None]) -> str:
    """A column of values as one text, each value after a unit separator (None as a record separator), which the
    statement splits back with ``string_to_array``. An array parameter costs asyncpg and PostgreSQL ~0.5 µs a value
    (a list page's 100 records: ~0.8 ms of its ~4 ms audit cost), a text parameter next to nothing.

    No value may hold either separator (none does: ids, codes, SSINs, and JSON fragments, whose control characters
    orjson escapes); one that did would shift every value after it, so it is refused: the call fails, closed."""
    text = "".join(_UNIT + (_NULL if value is None else value) for value in values)
    if text.count(_UNIT) != len(values) or text.count(_NULL) != sum(value is None for value in values):
        raise ValueError("an audit value holds a control character that separates values")
    return text


def keyring_of(session: AsyncSession) -> Keyring:
    found = session.info.get(KEYRING)
    if not isinstance(found, Keyring):
        raise RuntimeError("no audit key on this session: its sessionmaker needs info={KEYRING: keyring}")
    return found


def _arguments(records: Sequence[AuditRecord], at: datetime, keyring: Keyring) -> list[Any]:
    key_id, stamp = keyring.current_id, timestamp(at)
    cut = [canonical(entry, occurred_at=stamp, key_id=key_id) for entry in records]
    return [
        at,
        key_id,
        joined([str(entry.id) for entry in records]),
        joined([entry.trace_id for entry in records]),
        joined([entry.user_ssin for entry in records]),
        joined([entry.organisation for entry in records]),
        joined([entry.organisation_type for entry in records]),
        joined([",".join(entry.roles) for entry in records]),
        joined([entry.operation for entry in records]),
        joined([entry.resource_type for entry in records]),
        joined([entry.resource_id for entry in records]),
        joined([entry.person_ssin for entry in records]),
        joined([entry.outcome for entry in records]),
        joined([entry.reason for entry in records]),
        joined([entry.legal_basis for entry in records]),
        joined([None if entry.status is None else str(entry.status) for entry in records]),
        joined([part.after_chain for part in cut]),
        joined([part.after_seq for part in cut]),
        b"".join(keyring.mac(key_id, part.content) for part in cut),
    ]


async def append(
    session: AsyncSession, records: Sequence[AuditRecord], *, alone: bool = False, keyring: Keyring | None = None
) -> None:
    """Write the records on one chain: any chain whose head is free, else wait for a random one.

    This is the hot path of every call (a list page writes a record per line), so it is one round trip on the
    request's own connection. The records are stamped with the current time, and each one's MAC is computed here,
    under the current key of ``keyring`` (default: the session's, :data:`KEYRING`), over its canonical JSON
    (:func:`rp_api.audit_chain.canonical`). The database function ``rp_audit_append`` checks the time against its
    own clock, takes a free chain head (none whose latest record is of a later month), links the records under its
    lock, inserts them and moves the head; seconds after a month began it may answer that every free chain has a
    record of the new month, and the records are stamped again (see the migration 94233462c769).

    The records go in with the session's transaction. ``alone``: the caller has nothing in flight (flushed, or
    rolled back), so when no transaction is open at the database the records are one atomic statement of their own
    (a read-only call then costs no BEGIN and no COMMIT).
    """
    if not records:
        return
    keyring = keyring or keyring_of(session)
    driver = await driver_of(session)
    if not driver.is_in_transaction() and not alone:
        # SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement: make it do so now, or these
        # writes would escape the caller's transaction (and the chain head its lock).
        await (await session.connection()).exec_driver_sql("SELECT 1")
        if not driver.is_in_transaction():
            raise RuntimeError("the audit log is written only inside the caller's transaction")
    ahead = await driver.fetchval(_APPEND, *_arguments(records, datetime.now(UTC), keyring))
    if ahead is None:
        return
    # Seconds after a month began, every free chain had a record of the new month, later than this call's stamp.
    # The chain the database gave back stays this transaction's: stamped again once past that record, the records
    # go on it. A call that has no transaction gets one for this (the rare extra round trips).
    if driver.is_in_transaction():
        await _stamp_again(driver, records, keyring, ahead)
        return
    async with driver.transaction():
        ahead = await driver.fetchval(_APPEND, *_arguments(records, datetime.now(UTC), keyring))
        await _stamp_again(driver, records, keyring, ahead)


async def _stamp_again(driver: Any, records: Sequence[AuditRecord], keyring: Keyring, ahead: Any) -> None:
    for _ in range(_STAMPS):
        if ahead is None:
            return
        await asyncio.sleep(min(ahead.total_seconds(), 1.0))
        ahead = await driver.fetchval(_APPEND, *_arguments(records, datetime.now(UTC), keyring))
    if ahead is not None:
        raise RuntimeError("every audit chain kept a record later than this call's time")


@dataclass(frozen=True)
class Break:
    chain_id: int
    seq: int
    record_id: str | None
    problem: str


@dataclass(frozen=True)
class Verification:
    records: int
    first_break: Break | None
    legacy: int = 0
    """Records written before the log was keyed, verified by their chain alone."""
    keys: Mapping[str, int] = field(default_factory=dict)
    """Records verified under each key id."""
    checkpoints: int = 0
    """Checkpointed heads the log matched."""
    other_databases: int = 0
    """Checkpoints of another database (by name), left aside."""

    @property
    def intact(self) -> bool:
        return self.first_break is None


@dataclass
class _Walk:
    total: int = 0
    legacy: int = 0
    keys: dict[str, int] = field(default_factory=dict)
    matched: int = 0
    other_databases: int = 0

    def result(self, first_break: Break | None) -> Verification:
        return Verification(self.total, first_break, self.legacy, dict(self.keys), self.matched, self.other_databases)


def _seen_by_checkpoints(checkpoints: Sequence[Checkpoint]) -> dict[int, dict[int, list[tuple[bytes, str]]]]:
    """Per chain, per seq: the links checkpoints saw there, and when."""
    seen: dict[int, dict[int, list[tuple[bytes, str]]]] = {}
    for checkpoint in checkpoints:
        for head in checkpoint.heads:
            if head.seq > 0:
                seen.setdefault(head.chain_id, {}).setdefault(head.seq, []).append(
                    (head.hash, timestamp(checkpoint.at))
                )
    return seen


async def verify(
    session: AsyncSession,
    keyring: Keyring,
    checkpoints: Sequence[Checkpoint] = (),
    *,
    retention_months: int | None = None,
) -> Verification:
    """Walk every chain in order: each keyed record's MAC under its key, each link, each checkpointed head.

    After retention dropped its oldest partitions, a chain resumes from its anchor (the last dropped seq and link);
    without an anchor it must start at 1. Its end must match its head, and reach at least as far as every
    checkpoint saw it: fewer records than a checkpoint saw means records removed at the tail. A record without a
    key (legacy) is accepted only up to the last legacy seq of its chain (the least of what its head and the
    checkpoints say), and is verified by its chain alone. With ``retention_months``, an anchor younger than that
    retention (records gone from the start of a chain before their time) is a break too.
    """
    walk = _Walk()
    database = await session.scalar(select(func.current_database()))
    walk.other_databases = sum(checkpoint.database != database for checkpoint in checkpoints)
    checkpoints = [checkpoint for checkpoint in checkpoints if checkpoint.database == database]
    heads = {row.chain_id: row for row in (await session.execute(select(AuditChainHead.__table__))).all()}
    anchors = {row.chain_id: row for row in (await session.execute(select(AuditChainAnchor.__table__))).all()}
    seen = _seen_by_checkpoints(checkpoints)
    kept_from = None
    if retention_months is not None:
        today = datetime.now(UTC).date()
        first_kept = audit_cutoff_month(today, retention_months)
        kept_from = datetime(first_kept.year, first_kept.month, 1, tzinfo=UTC)
    for chain_id in sorted(set(heads) | set(seen)):
        head = heads.get(chain_id)
        if head is None:
            return walk.result(Break(chain_id, 0, None, "a checkpoint names this chain; the log has no head for it"))
        anchor = anchors.get(chain_id)
        if anchor is not None and kept_from is not None and anchor.dropped_before > kept_from:
            problem = (
                f"records removed from the start of the chain (up to seq {anchor.seq}, before "
                f"{timestamp(anchor.dropped_before)}), younger than the retention of {retention_months} months"
            )
            return walk.result(Break(chain_id, anchor.seq, None, problem))
        legacy_until = min(
            [head.legacy_until, *(h.legacy_until for c in checkpoints for h in c.heads if h.chain_id == chain_id)]
        )
        found = await _verify_chain(
            session, keyring, walk, head, anchors.get(chain_id), seen.get(chain_id, {}), legacy_until
        )
        if found is not None:
            return walk.result(found)
    return walk.result(None)


async def _verify_chain(
    session: AsyncSession,
    keyring: Keyring,
    walk: _Walk,
    head: Any,
    anchor: Any,
    seen: Mapping[int, list[tuple[bytes, str]]],
    legacy_until: int,
) -> Break | None:
    chain_id = head.chain_id
    previous: bytes = bytes(anchor.hash) if anchor else GENESIS_HASH
    last_seq: int = anchor.seq if anchor else 0
    for seq, saw in seen.items():  # a checkpoint of the last record retention dropped
        if anchor and seq == last_seq and any(hash_ != previous for hash_, _ in saw):
            return Break(chain_id, seq, None, f"the anchor does not match the checkpoint of {saw[0][1]}")
    table = AuditEvent.__table__
    result = await session.stream(
        select(table).where(table.c.chain_id == chain_id).order_by(table.c.seq).execution_options(yield_per=2000)
    )
    async for event in result:
        walk.total += 1
        record_id = str(event.id)
        if event.seq != last_seq + 1:
            return Break(chain_id, event.seq, record_id, "sequence gap or duplicate")
        if bytes(event.prev_hash) != previous:
            return Break(chain_id, event.seq, record_id, "previous hash does not match")
        record = _as_record(event)
        if event.key_id is None:
            if event.seq > legacy_until:
                problem = f"a record without a key after the chain was keyed (at seq {legacy_until})"
                return Break(chain_id, event.seq, record_id, problem)
            computed = chain_hash(previous, record, chain_id=chain_id, seq=event.seq)
            walk.legacy += 1
        else:
            key = keyring.get(event.key_id)
            if key is None:
                problem = f"a record under key id {event.key_id!r}, which is not in the key file"
                return Break(chain_id, event.seq, record_id, problem)
            cut = canonical(record, occurred_at=event.occurred_at, key_id=event.key_id)
            expected_mac = keyring.mac(event.key_id, cut.content)
            if event.mac is None or not hmac.compare_digest(expected_mac, bytes(event.mac)):
                return Break(chain_id, event.seq, record_id, "record content was changed (its MAC does not match)")
            computed = link(previous, cut.linked(chain_id=chain_id, seq=event.seq), expected_mac)
            walk.keys[event.key_id] = walk.keys.get(event.key_id, 0) + 1
        if computed != bytes(event.hash):
            return Break(chain_id, event.seq, record_id, "record content was changed")
        for hash_, at in seen.get(event.seq, ()):
            if hash_ != computed:
                return Break(
                    chain_id, event.seq, record_id, f"the chain up to here does not match the checkpoint of {at}"
                )
            walk.matched += 1
        previous, last_seq = computed, event.seq
    if (head.seq, bytes(head.hash)) != (last_seq, previous):
        return Break(chain_id, head.seq, None, "chain head does not match its last record")
    beyond = [(seq, saw[0][1]) for seq, saw in seen.items() if seq > last_seq]
    if beyond:
        seq, at = max(beyond)
        return Break(
            chain_id,
            last_seq + 1,
            None,
            f"records removed at the tail: the checkpoint of {at} saw seq {seq}, the chain ends at seq {last_seq}",
        )
    return None


def _as_record(event: Any) -> AuditRecord:
    return AuditRecord(
        id=event.id,
        occurred_at=event.occurred_at,
        trace_id=event.trace_id,
        user_ssin=event.user_ssin,
        organisation=event.organisation,
        organisation_type=event.organisation_type,
        roles=tuple(event.roles),
        operation=event.operation,
        resource_type=event.resource_type,
        resource_id=event.resource_id,
        person_ssin=event.person_ssin,
        outcome=event.outcome,
        reason=event.reason,
        legal_basis=event.legal_basis,
        status=event.status,
    )


async def heads(session: AsyncSession) -> tuple[str, tuple[Head, ...]]:
    """The database's name and every chain's head, read at once (what a checkpoint signs)."""
    table = AuditChainHead.__table__
    rows = (
        await session.execute(
            select(func.current_database(), table.c.chain_id, table.c.seq, table.c.hash, table.c.legacy_until).order_by(
                table.c.chain_id
            )
        )
    ).all()
    database = rows[0][0] if rows else str(await session.scalar(select(func.current_database())))
    return database, tuple(Head(row.chain_id, row.seq, bytes(row.hash), row.legacy_until) for row in rows)


async def upkeep(session: AsyncSession, *, today: date, months_ahead: int, first_kept: date | None) -> list[str]:
    """Create the partitions of ``today``'s month and the ``months_ahead`` next ones (a record with no monthly
    partition lands in the default one, which retention never drops); with ``first_kept``, anchor every chain on
    its last record before that month and drop the partitions of earlier months. The database refuses to drop a
    partition younger than its own retention (``audit_retention``). Returns the partitions dropped."""
    dropped = await session.execute(
        text("SELECT rp_audit_upkeep(:today, :months, :first_kept)"),
        {"today": today, "months": months_ahead, "first_kept": first_kept},
    )
    return list(dropped.scalars())


_PARTITIONS = """
SELECT child.relname AS name
FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid
JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
WHERE parent.relname = 'audit_event' AND child.relname ~ '^audit_event_[0-9]{4}_[0-9]{2}$'
ORDER BY child.relname
"""


async def partitions_before(session: AsyncSession, first_kept: date) -> list[str]:
    names = (await session.execute(text(_PARTITIONS))).scalars()
    return [name for name in names if name[len("audit_event_") :] < f"{first_kept:%Y_%m}"]


async def count_in(session: AsyncSession, partition: str) -> int:
    """Records of a monthly partition, counted through the parent table (the runtime role reads nothing else)."""
    year, month = (int(part) for part in partition[len("audit_event_") :].split("_"))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    table = AuditEvent.__table__
    query = select(func.count()).select_from(table).where(table.c.occurred_at >= start, table.c.occurred_at < end)
    return int(await session.scalar(query) or 0)


async def events(
    session: AsyncSession,
    *,
    person_ssins: Sequence[str] | None,
    organisation: str | None,
    user_ssin: str | None,
    since: datetime,
    until: datetime,
    after: tuple[datetime, int, int] | None,
    limit: int,
) -> list[Any]:
    """Records of the period, narrowed by whichever of person, organisation and user is given, oldest first;
    keyset on (occurred_at, chain_id, seq). ``person_ssins``: every SSIN of the person (a person whose SSIN changed
    is recorded under each of them). The person and organisation filters each have their index."""
    table = AuditEvent.__table__
    query = (
        select(table)
        .where(table.c.occurred_at >= since, table.c.occurred_at < until)
        .order_by(table.c.occurred_at, table.c.chain_id, table.c.seq)
        .limit(limit)
    )
    if person_ssins is not None:
        query = query.where(table.c.person_ssin.in_(list(person_ssins)))
    for column, value in ((table.c.organisation, organisation), (table.c.user_ssin, user_ssin)):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(tuple_(table.c.occurred_at, table.c.chain_id, table.c.seq) > tuple_(*after))
    return list((await session.execute(query)).all())
