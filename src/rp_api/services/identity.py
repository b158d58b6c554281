"""The person's identity over time: the dossier follows the person when the National Register replaces their SSIN
(deliberation 26/060 §7; the rules: :mod:`rp_api.domain.identity`).

The person guard calls :func:`follow` when a call it lets through is about a person with earlier SSINs (the SSIN the
call named was replaced, or the register lists earlier ones for it). In the call's own unit of work — rolled back
with it — it records each hop of the history, moves the dossier stored under an earlier SSIN to the current one,
and merges the person's dossiers when more than one of their SSINs had one. Two calls following one person at once
are taken one after the other (a transaction-level advisory lock on the person, then the dossier rows locked in id
order): the second finds the work done, neither creates a duplicate, neither deadlocks on the other.

The objects the call already loaded are kept true to the database: a dossier it holds is read again (its SSIN,
version and status changed), the forms, requests, consents… it holds point at the survivor, and a dossier absorbed
by this call leaves the session. This module does not know the guard (the guard imports it)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from rp_api.domain import identity as rules
from rp_api.models.dossier import Dossier
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import identity as repository

_ABSORBED = "rp.identity.absorbed"
"""Where a session keeps the dossiers its call absorbed (id → survivor id)."""

_DOSSIER_COLUMNS = ("ssin", "status", "closed_at", "closed_by", "updated_at", "version")


@dataclass(frozen=True)
class Followed:
    """What following the person's SSIN changed, for the audit and for the call."""

    plan: rules.Plan | None = None
    """The dossiers moved or merged (None: none)."""
    vanished: tuple[uuid.UUID, ...] = field(default=())
    """Dossiers the call held that another call absorbed meanwhile (the call cannot go on with them)."""


NOTHING = Followed()


def absorbed_here(session: AsyncSession) -> Mapping[uuid.UUID, uuid.UUID]:
    """The dossiers absorbed during this call (id → the survivor's id)."""
    found: dict[uuid.UUID, uuid.UUID] = session.info.get(_ABSORBED, {})
    return found


def _held(session: AsyncSession) -> list[Dossier]:
    return [obj for obj in list(session.identity_map.values()) if isinstance(obj, Dossier)]


async def follow(
    session: AsyncSession,
    *,
    current_ssin: str,
    earlier: Sequence[str],
    known_hops: Sequence[tuple[str, str]],
    successor_of: Callable[[str], Awaitable[str | None]],
    trace_id: str,
) -> Followed:
    """Follow the person to ``current_ssin`` from the ``earlier`` SSINs: the history recorded (``known_hops``: the
    replacements the call saw; for an earlier SSIN known only from the register's list, ``successor_of`` asks the
    register which SSIN replaced it, the current one when it does not say), the dossiers moved or merged. Nothing
    is locked when every hop is recorded already and no dossier is stored under an earlier SSIN (the usual case once
    followed: two indexed reads on each call about a person whose SSIN changed, none for anyone else)."""
    if not earlier:
        return NOTHING
    ssins = [current_ssin, *earlier]
    found = await repository.stored(session, ssins)
    missing = set(earlier) - await repository.recorded(session, earlier)
    if not missing and rules.plan(found, current_ssin) is None:
        return Followed(vanished=await _keep_true(session, ssins))
    await repository.lock_person(session, current_ssin)
    found = await repository.stored(session, ssins, lock=True)
    missing = set(earlier) - await repository.recorded(session, earlier)
    if missing:
        known = dict(known_hops)
        hops = []
        for old in earlier:
            if old in missing:
                new = known.get(old) or await successor_of(old) or current_ssin
                hops.append((old, new if new != old else current_ssin))
        await repository.record_hops(session, hops, trace_id=trace_id)
    plan = rules.plan(found, current_ssin, held=(dossier.id for dossier in _held(session)))
    if plan is None:
        return Followed(vanished=await _keep_true(session, ssins))
    survivor = plan.survivor.id
    if plan.absorbed:
        every = [survivor, *(dossier.id for dossier in plan.absorbed)]
        withdrawn = rules.withdrawn_at_merge(await repository.consents_in_force(session, every))
        await repository.withdraw_at_merge(session, withdrawn)
        absorbed_map = session.info.setdefault(_ABSORBED, {})
        for dossier in plan.absorbed:
            await repository.absorb(session, dossier.id, survivor, absorbed_ssin=dossier.ssin, trace_id=trace_id)
            absorbed_map[dossier.id] = survivor
    if plan.moves:
        await repository.rekey(session, survivor, current_ssin)
    await dossier_repository.touch(session, survivor, new_item=plan.reopens)
    return Followed(plan, await _keep_true(session, ssins))


async def _keep_true(session: AsyncSession, ssins: Sequence[str]) -> tuple[uuid.UUID, ...]:
    """The objects the call loaded, brought in line with the database: a dossier of the person it holds (under any
    of their ``ssins``) read again — its SSIN, version, status may have changed, by this call or by one it waited
    for —, one absorbed by this call out of the session, one absorbed by another call meanwhile out too (returned:
    the call cannot go on with it); the items it holds pointing at the survivor of their dossier."""
    absorbed = dict(absorbed_here(session))
    person = set(ssins)
    vanished: list[uuid.UUID] = []
    for dossier in _held(session):
        if dossier.id in absorbed:
            session.expunge(dossier)
        elif dossier.ssin in person and dossier not in session.dirty:
            try:
                await session.refresh(dossier, attribute_names=list(_DOSSIER_COLUMNS))
            except InvalidRequestError:  # absorbed by another call since it was loaded
                session.expunge(dossier)
                vanished.append(dossier.id)
    if vanished:
        absorbed.update(await repository.survivors(session, vanished))
    if absorbed:
        for obj in list(session.identity_map.values()):
            dossier_id = getattr(obj, "dossier_id", None)
            if isinstance(dossier_id, uuid.UUID) and dossier_id in absorbed:
                set_committed_value(obj, "dossier_id", absorbed[dossier_id])
    return tuple(vanished)


async def person_ssins(session: AsyncSession, ssin: str) -> list[str]:
    """Every SSIN of the person ``ssin`` names, as far as the platform has followed their replacements."""
    return await repository.person_ssins(session, ssin)


async def refusal_ssins(session: AsyncSession, *, organisation: str, ssins: Iterable[str]) -> dict[str, str]:
    """The SSIN each refusal of ``organisation`` names, for persons it reached through something stored under these
    SSINs (:func:`rp_api.domain.identity.refusal_names`): the SSIN itself unless the person had earlier ones. One
    indexed read of the replacements; the audit log is read only for persons with earlier SSINs (rare)."""
    wanted = list(dict.fromkeys(ssins))
    history = await repository.earlier_ssins(session, wanted)
    named = {ssin: ssin for ssin in wanted}
    if history:
        everyone = [ssin for current, earlier in history.items() for ssin in (current, *earlier)]
        seen = await repository.last_seen(session, organisation=organisation, ssins=everyone)
        for current, earlier in history.items():
            named[current] = rules.refusal_names(current, earlier, seen)
    return named
