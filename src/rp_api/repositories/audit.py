"""Audit log queries: append records to a free hash chain, walk the chains to verify them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.audit import GENESIS_HASH, AuditRecord, chain_hash, fragments
from rp_api.models.audit import AuditChainAnchor, AuditChainHead, AuditEvent
from rp_api.repositories.driver import driver_of

_UNIT = "\x1f"
"""ASCII unit separator: goes before each value of a column sent as one text (see :func:`joined`)."""
_NULL = "\x1e"
"""ASCII record separator: stands for a NULL value."""


def _column(n: int, cast: str = "") -> str:
    """Parameter ``n`` (made by :func:`joined`) split back into an array; the first, empty, element dropped."""
    unit, null = (f"E'\\x{ord(char):02x}'" for char in (_UNIT, _NULL))
    return f"(string_to_array(${n}, {unit}, {null}))[2:]{cast}"


_COLUMNS = [_column(2, "::uuid[]"), *(_column(n) for n in range(3, 15)), _column(15, "::smallint[]")]
_APPEND = "SELECT rp_audit_append($1, " + ", ".join([*_COLUMNS, *(_column(n) for n in range(16, 19))]) + ")"


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


async def append(
    session: AsyncSession, records: Sequence[AuditRecord], *, now: datetime | None = None, alone: bool = False
) -> None:
    """Write the records on one chain: any chain whose head is free, else wait for a random one.

    This is the hot path of every call (a list page writes a record per line), so it is one round trip on the
    request's own connection: the database function ``rp_audit_append`` takes the chain head, stamps the records
    under its lock, chains their hashes, inserts them and moves the head. Each record travels with its canonical
    JSON cut around chain id, time and seq (:func:`rp_api.authz.audit.fragments`).

    The records go in with the session's transaction. ``alone``: the caller has nothing in flight (flushed, or
    rolled back), so when no transaction is open at the database the records are one atomic statement of their own
    (a read-only call then costs no BEGIN and no COMMIT).
    """
    if not records:
        return
    driver = await driver_of(session)
    if not driver.is_in_transaction() and not alone:
        # SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement: make it do so now, or these
        # writes would escape the caller's transaction (and the chain head its lock).
        await (await session.connection()).exec_driver_sql("SELECT 1")
        if not driver.is_in_transaction():
            raise RuntimeError("the audit log is written only inside the caller's transaction")
    cut = [fragments(entry) for entry in records]
    await driver.execute(
        _APPEND,
        now,
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
        joined([part.after_time for part in cut]),
        joined([part.after_seq for part in cut]),
    )


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

    @property
    def intact(self) -> bool:
        return self.first_break is None


async def verify(session: AsyncSession) -> Verification:
    """Walk every chain in order, recompute each hash, and compare the ends with the chain heads.

    After retention dropped its oldest partitions, a chain resumes from its anchor (the last dropped seq and hash);
    without an anchor it must start at 1. Its end must match its head exactly, so a removed last record is reported.
    """
    total = 0
    heads = {row.chain_id: row for row in (await session.execute(select(AuditChainHead.__table__))).all()}
    anchors = {row.chain_id: row for row in (await session.execute(select(AuditChainAnchor.__table__))).all()}
    for chain_id in sorted(heads):
        anchor = anchors.get(chain_id)
        previous: bytes | None = bytes(anchor.hash) if anchor else None
        last_seq: int | None = anchor.seq if anchor else None
        result = await session.stream(
            select(AuditEvent)
            .where(AuditEvent.chain_id == chain_id)
            .order_by(AuditEvent.seq)
            .execution_options(yield_per=2000)
        )
        async for event in result.scalars():
            total += 1
            expected_previous = GENESIS_HASH if previous is None else previous
            if last_seq is None and event.seq != 1:
                return Verification(total, Break(chain_id, event.seq, str(event.id), "sequence gap or duplicate"))
            if last_seq is not None and event.seq != last_seq + 1:
                return Verification(total, Break(chain_id, event.seq, str(event.id), "sequence gap or duplicate"))
            if bytes(event.prev_hash) != expected_previous:
                return Verification(total, Break(chain_id, event.seq, str(event.id), "previous hash does not match"))
            recomputed = chain_hash(expected_previous, _as_record(event), chain_id=chain_id, seq=event.seq)
            if recomputed != bytes(event.hash):
                return Verification(total, Break(chain_id, event.seq, str(event.id), "record content was changed"))
            previous, last_seq = recomputed, event.seq
        head = heads[chain_id]
        end = (last_seq, previous) if last_seq is not None else (0, GENESIS_HASH)
        if (head.seq, bytes(head.hash)) != end:
            return Verification(total, Break(chain_id, head.seq, None, "chain head does not match its last record"))
    return Verification(total, None)


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


async def ensure_partitions(session: AsyncSession, today: date, months_ahead: int = 3) -> None:
    """Create this month's partition and the next ones (idempotent), before any record needs them: a record with no
    monthly partition lands in the default one, which retention never drops."""
    await session.execute(
        text("SELECT rp_ensure_audit_partitions(:today, :months)"), {"today": today, "months": months_ahead}
    )


_PARTITIONS = """
SELECT child.relname AS name
FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid
JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
WHERE parent.relname = 'audit_event' AND child.relname ~ '^audit_event_[0-9]{4}_[0-9]{2}$'
ORDER BY child.relname
"""
_ANCHORS = """
INSERT INTO audit_chain_anchor (chain_id, seq, hash, dropped_before)
SELECT DISTINCT ON (chain_id) chain_id, seq, hash, :cutoff FROM audit_event
WHERE occurred_at < :cutoff ORDER BY chain_id, seq DESC
ON CONFLICT (chain_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, dropped_before = excluded.dropped_before
WHERE audit_chain_anchor.seq < excluded.seq
"""


async def partitions_before(session: AsyncSession, first_kept: date) -> list[str]:
    names = (await session.execute(text(_PARTITIONS))).scalars()
    return [name for name in names if name[len("audit_event_") :] < f"{first_kept:%Y_%m}"]


async def count_in(session: AsyncSession, partition: str) -> int:
    return int(await session.scalar(text(f'SELECT count(*) FROM "{partition}"')) or 0)  # noqa: S608 - catalogue name


async def drop_before(session: AsyncSession, first_kept: date, partitions: list[str]) -> None:
    """Anchor every chain on its last record before ``first_kept``, then drop those partitions (not a DELETE: the
    append-only triggers stay in force)."""
    cutoff = datetime(first_kept.year, first_kept.month, 1, tzinfo=UTC)
    await session.execute(text(_ANCHORS), {"cutoff": cutoff})
    for partition in partitions:
        await session.execute(text(f'DROP TABLE IF EXISTS "{partition}"'))


async def events(
    session: AsyncSession,
    *,
    person_ssin: str | None,
    organisation: str | None,
    user_ssin: str | None,
    since: datetime,
    until: datetime,
    after: tuple[datetime, int, int] | None,
    limit: int,
) -> list[Any]:
    """Records of the period, narrowed by whichever of person, organisation and user is given, oldest first;
    keyset on (occurred_at, chain_id, seq). The person and organisation filters each have their index."""
    table = AuditEvent.__table__
    query = (
        select(table)
        .where(table.c.occurred_at >= since, table.c.occurred_at < until)
        .order_by(table.c.occurred_at, table.c.chain_id, table.c.seq)
        .limit(limit)
    )
    for column, value in (
        (table.c.person_ssin, person_ssin),
        (table.c.organisation, organisation),
        (table.c.user_ssin, user_ssin),
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(tuple_(table.c.occurred_at, table.c.chain_id, table.c.seq) > tuple_(*after))
    return list((await session.execute(query)).all())
