"""What an insider holding the owner role can do to the audit log: switch the guard triggers off, rewrite a chain's
rows (content, order, which rows), link them again with SHA-256 exactly as the log does — but without the MAC key,
which the database never holds — move the head to the new end, switch the triggers back on.

Also the owner's way to put records at a time of its choosing (test set-up for retention: the runtime role cannot
date a record).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.audit_chain import GENESIS_HASH, Keyring, canonical, chain_hash, link, mac
from rp_api.domain.audit import AuditRecord

Row = dict[str, Any]
_COLUMNS = (
    "chain_id, seq, occurred_at, id, trace_id, user_ssin, organisation, organisation_type, roles, operation, "
    "resource_type, resource_id, person_ssin, outcome, reason, legal_basis, status, key_id, mac, prev_hash, hash"
)


def record_of(row: Row) -> AuditRecord:
    return AuditRecord(
        id=row["id"],
        occurred_at=row["occurred_at"],
        trace_id=row["trace_id"],
        user_ssin=row["user_ssin"],
        organisation=row["organisation"],
        organisation_type=row["organisation_type"],
        roles=tuple(row["roles"]),
        operation=row["operation"],
        resource_type=row["resource_type"],
        resource_id=row["resource_id"],
        person_ssin=row["person_ssin"],
        outcome=row["outcome"],
        reason=row["reason"],
        legal_basis=row["legal_basis"],
        status=row["status"],
    )


def relinked(previous: bytes, row: Row) -> bytes:
    """The row's link as the log computes it, from its content and its *stored* MAC (the insider has no key)."""
    if row["key_id"] is None:
        return chain_hash(previous, record_of(row), chain_id=row["chain_id"], seq=row["seq"])
    cut = canonical(record_of(row), occurred_at=row["occurred_at"], key_id=row["key_id"])
    return link(previous, cut.linked(chain_id=row["chain_id"], seq=row["seq"]), bytes(row["mac"]))


async def chain(connection: AsyncConnection, chain_id: int) -> list[Row]:
    rows = await connection.execute(
        text(f"SELECT {_COLUMNS} FROM audit_event WHERE chain_id = :chain ORDER BY seq"),  # noqa: S608
        {"chain": chain_id},
    )
    return [dict(row._mapping) for row in rows]


async def busiest_chain(connection: AsyncConnection) -> int:
    return int(
        await connection.scalar(text("SELECT chain_id FROM audit_event GROUP BY chain_id ORDER BY count(*) DESC"))
    )


async def rewrite_chain(connection: AsyncConnection, chain_id: int, change: Callable[[list[Row]], list[Row]]) -> None:
    """Replace the chain's rows by ``change(rows)``, numbered again from 1 and linked again, and move its head: what
    the insider of issue 16 did, as the owner role (the connection's)."""
    rows = change(await chain(connection, chain_id))
    await connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    await connection.execute(text("DELETE FROM audit_event WHERE chain_id = :chain"), {"chain": chain_id})
    previous = GENESIS_HASH
    for seq, row in enumerate(rows, start=1):
        row = {**row, "seq": seq, "prev_hash": previous}
        row["hash"] = previous = relinked(previous, row)
        await _insert(connection, row)
    await connection.execute(
        text("UPDATE audit_chain_head SET seq = :seq, hash = :hash, last_at = :at WHERE chain_id = :chain"),
        {"seq": len(rows), "hash": previous, "at": rows[-1]["occurred_at"] if rows else None, "chain": chain_id},
    )
    await connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))


async def _insert(connection: AsyncConnection, row: Row) -> None:
    names = [name.strip() for name in _COLUMNS.split(",")]
    await connection.execute(
        text(f"INSERT INTO audit_event ({_COLUMNS}) VALUES ({', '.join(':' + n for n in names)})"),  # noqa: S608
        row,
    )


async def write_at(
    connection: AsyncConnection,
    records: Sequence[AuditRecord],
    at: datetime,
    keyring: Keyring,
    chain_id: int,
) -> None:
    """Append keyed records at time ``at`` on a chain, as the owner (never the service's way: the runtime role
    cannot date a record). Links and MACs are those of the log, so the records verify."""
    head = (
        await connection.execute(
            text("SELECT seq, hash FROM audit_chain_head WHERE chain_id = :chain FOR UPDATE"), {"chain": chain_id}
        )
    ).one()
    seq, previous = head.seq, bytes(head.hash)
    for entry in records:
        seq += 1
        cut = canonical(entry, occurred_at=at, key_id=keyring.current_id)
        record_mac = mac(keyring.current, cut.content)
        hash_ = link(previous, cut.linked(chain_id=chain_id, seq=seq), record_mac)
        await _insert(
            connection,
            {
                "chain_id": chain_id,
                "seq": seq,
                "occurred_at": at,
                "id": entry.id,
                "trace_id": entry.trace_id,
                "user_ssin": entry.user_ssin,
                "organisation": entry.organisation,
                "organisation_type": entry.organisation_type,
                "roles": list(entry.roles),
                "operation": entry.operation,
                "resource_type": entry.resource_type,
                "resource_id": entry.resource_id,
                "person_ssin": entry.person_ssin,
                "outcome": entry.outcome,
                "reason": entry.reason,
                "legal_basis": entry.legal_basis,
                "status": entry.status,
                "key_id": keyring.current_id,
                "mac": record_mac,
                "prev_hash": previous,
                "hash": hash_,
            },
        )
        previous = hash_
    await connection.execute(
        text(
            "UPDATE audit_chain_head SET seq = :seq, hash = :hash, last_at = greatest(last_at, :at) "
            "WHERE chain_id = :chain"
        ),
        {"seq": seq, "hash": previous, "at": at, "chain": chain_id},
    )
