"""The purge: everything past its retention, removed in short transactions (it also keeps the next monthly audit
partitions ready) (safe beside live traffic), and idempotent
(a second run finds nothing). ``rp-api purge`` runs it on demand (``--dry-run`` counts only); the service runs it
periodically. The clock is an argument, so tests travel in time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rp_api.domain.retention import audit_cutoff_month, dossier_cutoff
from rp_api.repositories import audit as audit_repository
from rp_api.repositories import link_cache
from rp_api.repositories import retention as repository

DOSSIER_BATCH = 500
AUDIT_PARTITIONS_AHEAD = 3
"""Monthly audit partitions kept ready ahead of time (the purge runs hourly)."""


@dataclass
class PurgeReport:
    dossiers: int = 0
    idempotency_records: int = 0
    person_links: int = 0
    audit_partitions: list[str] = field(default_factory=list)
    audit_records: int = 0


async def purge(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    link_ttl_s: int,
    audit_months: int,
    idempotency_days: int,
    dry_run: bool = False,
    progress: Callable[[int], None] = lambda _: None,
) -> PurgeReport:
    report = PurgeReport()
    today: date = now.date()
    expired_before = dossier_cutoff(today)
    idempotency_before = now - timedelta(days=idempotency_days)
    links_before = now - timedelta(seconds=link_ttl_s)
    first_kept_month = audit_cutoff_month(today, audit_months)

    async with sessionmaker() as session, session.begin():
        partitions = await audit_repository.partitions_before(session, first_kept_month)
        report.audit_partitions = partitions
        report.audit_records = sum([await audit_repository.count_in(session, p) for p in partitions])
        if dry_run:
            report.dossiers = await repository.count_expired_dossiers(session, expired_before)
            report.idempotency_records = await repository.count_old_idempotency_records(session, idempotency_before)
            report.person_links = await link_cache.count_older_than(session, links_before)
            return report

    while True:  # short transactions: concurrent traffic waits on nothing but a batch
        async with sessionmaker() as session, session.begin():
            deleted = await repository.delete_expired_dossiers(session, expired_before, batch=DOSSIER_BATCH)
        report.dossiers += deleted
        progress(deleted)
        if deleted < DOSSIER_BATCH:
            break
    async with sessionmaker() as session, session.begin():
        report.idempotency_records = await repository.delete_old_idempotency_records(session, idempotency_before)
        report.person_links = await link_cache.purge_older_than(session, links_before)
    # Audit partitions only through the owner's upkeep function, which refuses one younger than its own retention:
    # a transaction of their own, so that a refusal undoes nothing else.
    async with sessionmaker() as session, session.begin():
        report.audit_partitions = await audit_repository.upkeep(
            session,
            today=today,
            months_ahead=AUDIT_PARTITIONS_AHEAD,
            first_kept=first_kept_month if partitions else None,
        )
    return report
