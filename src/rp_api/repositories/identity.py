"""Queries of the person's identity over time: the SSIN replacements recorded, the dossiers stored under a person's
SSINs, and the merge of two dossiers of one person (the rules: :mod:`rp_api.domain.identity`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.domain.identity import ConsentInForce, StoredDossier
from rp_api.models.audit import AuditEvent
from rp_api.models.conversation import Conversation, FeedEvent
from rp_api.models.dossier import Addressee, Consent, Dossier, DossierParticipant
from rp_api.models.identity import DossierMerge, SsinReplacement
from rp_api.models.registration_form import RegistrationForm
from rp_api.models.request import FollowUp, Request

LOCK_NAMESPACE = "rp.identity|"
"""Prefix of the advisory-lock key of a person (their current SSIN): two calls following one person's SSIN change
are taken one after the other."""

PERSON_SSINS_LIMIT = 64
"""At most this many SSINs make one person (a longer history is cut: no real one comes near)."""

_ITEMS: tuple[type[RegistrationForm | Request | FollowUp | Conversation | FeedEvent | Addressee | Consent], ...] = (
    RegistrationForm,
    Request,
    FollowUp,
    Conversation,
    FeedEvent,
    Addressee,
    Consent,
)
"""Everything stored with a dossier id; what hangs on them (decisions, hours, revisions, messages, read marks,
conversation participants) moves with them."""


async def stored(session: AsyncSession, ssins: Sequence[str], *, lock: bool = False) -> list[StoredDossier]:
    """The dossiers stored under these SSINs, by id; ``lock``: held until the transaction ends (in id order, so two
    transactions locking the same dossiers cannot deadlock on them)."""
    query = (
        select(Dossier.id, Dossier.ssin, Dossier.created_at, Dossier.status)
        .where(Dossier.ssin.in_(list(ssins)))
        .order_by(Dossier.id)
    )
    if lock:
        query = query.with_for_update()
    rows = (await session.execute(query)).all()
    return [StoredDossier(row.id, row.ssin, row.created_at, row.status) for row in rows]


async def recorded(session: AsyncSession, old_ssins: Iterable[str]) -> set[str]:
    """Which of these SSINs have their replacement recorded already."""
    wanted = list(set(old_ssins))
    if not wanted:
        return set()
    query = select(SsinReplacement.old_ssin).where(SsinReplacement.old_ssin.in_(wanted))
    return set((await session.execute(query)).scalars())


async def lock_person(session: AsyncSession, current_ssin: str) -> None:
    """A transaction-level advisory lock on the person (keyed on their current SSIN), released at commit or
    rollback."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": LOCK_NAMESPACE + current_ssin}
    )


async def record_hops(session: AsyncSession, hops: Sequence[tuple[str, str]], *, trace_id: str) -> None:
    """Record each replacement (old SSIN → new SSIN) once: the first recording stays (history is never rewritten)."""
    if not hops:
        return
    await session.execute(
        insert(SsinReplacement)
        .values([{"old_ssin": old, "new_ssin": new, "trace_id": trace_id} for old, new in hops])
        .on_conflict_do_nothing(index_elements=[SsinReplacement.old_ssin])
    )


async def rekey(session: AsyncSession, dossier_id: uuid.UUID, ssin: str) -> None:
    """Store the dossier under the person's current SSIN."""
    await session.execute(
        update(Dossier).where(Dossier.id == dossier_id).values(ssin=ssin).execution_options(synchronize_session=False)
    )


async def consents_in_force(session: AsyncSession, dossier_ids: Sequence[uuid.UUID]) -> list[ConsentInForce]:
    query = select(Consent.id, Consent.scope, Consent.given_on, Consent.recorded_at).where(
        Consent.dossier_id.in_(list(dossier_ids)), Consent.withdrawn_at.is_(None)
    )
    rows = (await session.execute(query)).all()
    return [ConsentInForce(row.id, row.scope, row.given_on, row.recorded_at) for row in rows]


async def withdraw_at_merge(session: AsyncSession, consent_ids: Iterable[uuid.UUID]) -> None:
    """Mark these consents withdrawn now, by no organisation (the merge withdrew them)."""
    wanted = list(consent_ids)
    if not wanted:
        return
    await session.execute(
        update(Consent)
        .where(Consent.id.in_(wanted), Consent.withdrawn_at.is_(None))
        .values(withdrawn_at=func.clock_timestamp(), withdrawn_by_organisation=None, version=Consent.version + 1)
        .execution_options(synchronize_session=False)
    )


async def absorb(
    session: AsyncSession, absorbed: uuid.UUID, survivor: uuid.UUID, *, absorbed_ssin: str, trace_id: str
) -> None:
    """Move everything of the absorbed dossier to the survivor, then delete it; its id leads to the survivor from
    then on (``dossier_merge``; merges it absorbed earlier lead there too). Consents that would both be in force
    must have been withdrawn before (:func:`withdraw_at_merge`)."""
    for model in _ITEMS:
        await session.execute(
            update(model)
            .where(model.dossier_id == absorbed)
            .values(dossier_id=survivor)
            .execution_options(synchronize_session=False)
        )
    participants = select(literal(survivor, Dossier.id.type), DossierParticipant.enterprise_number).where(
        DossierParticipant.dossier_id == absorbed
    )
    await session.execute(
        insert(DossierParticipant)
        .from_select(["dossier_id", "enterprise_number"], participants)
        .on_conflict_do_nothing()
    )
    await session.execute(
        update(DossierMerge)
        .where(DossierMerge.survivor_dossier_id == absorbed)
        .values(survivor_dossier_id=survivor)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        insert(DossierMerge)
        .values(
            absorbed_dossier_id=absorbed, survivor_dossier_id=survivor, absorbed_ssin=absorbed_ssin, trace_id=trace_id
        )
        .on_conflict_do_nothing()
    )
    await session.execute(delete(Dossier).where(Dossier.id == absorbed).execution_options(synchronize_session=False))


async def survivors(session: AsyncSession, dossier_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """For those of these ids that were absorbed in a merge: the dossier that holds their contents now."""
    wanted = list(set(dossier_ids))
    if not wanted:
        return {}
    query = select(DossierMerge.absorbed_dossier_id, DossierMerge.survivor_dossier_id).where(
        DossierMerge.absorbed_dossier_id.in_(wanted)
    )
    return {absorbed: survivor for absorbed, survivor in (await session.execute(query)).all()}


_PERSON_SSINS = text(
    """
WITH RECURSIVE person(ssin) AS (
    SELECT CAST(:ssin AS varchar)
    UNION
    SELECT CASE WHEN r.old_ssin = p.ssin THEN r.new_ssin ELSE r.old_ssin END
    FROM ssin_replacement r JOIN person p ON r.old_ssin = p.ssin OR r.new_ssin = p.ssin
)
SELECT ssin FROM person LIMIT :limit
"""
)


async def person_ssins(session: AsyncSession, ssin: str) -> list[str]:
    """Every SSIN of the person this one names: itself and those linked to it through the recorded replacements, in
    both directions and along chains (:func:`rp_api.domain.identity.person_ssins`, in one query)."""
    rows = await session.execute(_PERSON_SSINS, {"ssin": ssin, "limit": PERSON_SSINS_LIMIT})
    return list(rows.scalars())


_EARLIER_SSINS = text(
    """
WITH RECURSIVE earlier(current_ssin, ssin, depth) AS (
    SELECT r.new_ssin, r.old_ssin, 1 FROM ssin_replacement r WHERE r.new_ssin = ANY(CAST(:ssins AS varchar[]))
    UNION ALL
    SELECT e.current_ssin, r.old_ssin, e.depth + 1
    FROM ssin_replacement r JOIN earlier e ON r.new_ssin = e.ssin
    WHERE e.depth < :limit
)
SELECT current_ssin, ssin FROM earlier ORDER BY current_ssin, depth
"""
)


async def earlier_ssins(session: AsyncSession, ssins: Iterable[str]) -> dict[str, list[str]]:
    """For each of these SSINs that replaced others (as recorded when a dossier followed its person): the SSINs it
    replaced, along chains, most recent first. SSINs that replaced none are left out (one indexed read for all)."""
    wanted = sorted(set(ssins))
    if not wanted:
        return {}
    rows = await session.execute(_EARLIER_SSINS, {"ssins": wanted, "limit": PERSON_SSINS_LIMIT})
    found: dict[str, list[str]] = {}
    for current, earlier in rows.all():
        if earlier != current and earlier not in found.setdefault(current, []):
            found[current].append(earlier)
    return found


async def last_seen(session: AsyncSession, *, organisation: str, ssins: Iterable[str]) -> dict[str, datetime]:
    """When the organisation was last let see a person under each of these SSINs (its latest permitted audit
    record naming it); SSINs it never saw are left out. Through the audit log's person index."""
    wanted = sorted(set(ssins))
    if not wanted:
        return {}
    table = AuditEvent.__table__
    query = (
        select(table.c.person_ssin, func.max(table.c.occurred_at))
        .where(table.c.person_ssin.in_(wanted), table.c.organisation == organisation, table.c.outcome == "permit")
        .group_by(table.c.person_ssin)
    )
    return {ssin: at for ssin, at in (await session.execute(query)).all()}
