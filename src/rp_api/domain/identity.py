"""The person's identity over time (historique des NISS, deliberation CSI/CSSS n° 26/060 §7). Pure rules.

A dossier belongs to the person, not to an SSIN string. When the National Register replaces a person's SSIN
(X → Y → Z: each old SSIN names its replacement, and the current one lists the earlier ones), the platform follows
it on the first call that resolves the person's links and lets the caller through (:mod:`rp_api.services.identity`):

- every hop is recorded (``ssin_replacement``: the history is kept, never rewritten);
- the dossier stored under an earlier SSIN moves to the current one (:func:`plan`);
- when more than one of the person's SSINs already has a dossier, they are **merged** into one: the survivor is the
  earliest-created dossier, so that the id the parties have held longest stays — unless the call that finds them
  works on one of them already (it loaded it to name the person), which then survives, so that the call goes on
  with the dossier it holds. The survivor is stored under the current SSIN; everything of the absorbed ones moves
  to it; their ids still lead to it (``dossier_merge``).
- two consents of the same scope in force (one from each dossier) cannot both stay in force: the one the person
  gave most recently stays, the other is marked withdrawn at the merge (:func:`withdrawn_at_merge`).
- a merged dossier is active when one of the merged dossiers was active (its open items, or its being new, lift
  an explicit close of the survivor, as a new form or request would); its status is then recomputed from its items
  (:func:`rp_api.domain.dossiers.after_change`).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from rp_api.domain.dossiers import DossierStatus
from rp_api.domain.legal_basis import DELIBERATION

FOLLOWED_BASIS = (
    f"{DELIBERATION}, §7: the person's SSIN changes are followed through the National Register; the dossier follows "
    "the person"
)
"""The legal basis on the record of a dossier moved or merged to the person's current SSIN."""


def earlier_ssins(current: str, *lists: Iterable[str]) -> tuple[str, ...]:
    """Every SSIN of the person but the current one, each once, in the order given (the chain the call followed,
    then the register's list of earlier SSINs)."""
    seen: dict[str, None] = {}
    for ssins in lists:
        for ssin in ssins:
            if ssin != current:
                seen.setdefault(ssin, None)
    return tuple(seen)


def chain_hops(chain: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The replacements a followed chain shows (A → B → C: (A, B), (B, C)), as (old SSIN, new SSIN)."""
    return tuple((old, new) for old, new in itertools.pairwise(chain) if old != new)


@dataclass(frozen=True)
class StoredDossier:
    """A dossier stored under one of the person's SSINs, as the merge rule needs it."""

    id: uuid.UUID
    ssin: str
    created_at: datetime
    status: str


@dataclass(frozen=True)
class Plan:
    """What following the person's SSIN changes in the dossiers."""

    survivor: StoredDossier
    """The person's one dossier from now on, stored under the current SSIN."""
    absorbed: tuple[StoredDossier, ...]
    """The other dossiers of the person: merged into the survivor (their contents move, their rows go, their ids
    lead to the survivor)."""
    current_ssin: str

    @property
    def moves(self) -> bool:
        """Whether the survivor is stored under an earlier SSIN (re-keyed to the current one)."""
        return self.survivor.ssin != self.current_ssin

    @property
    def reopens(self) -> bool:
        """Whether an absorbed dossier was active: its open items (or its being new) lift an explicit close of the
        survivor, as a new form or request would."""
        return any(dossier.status == DossierStatus.ACTIVE for dossier in self.absorbed)


def _age(dossier: StoredDossier) -> tuple[datetime, uuid.UUID]:
    return dossier.created_at, dossier.id


def plan(dossiers: Sequence[StoredDossier], current_ssin: str, held: Iterable[uuid.UUID] = ()) -> Plan | None:
    """What to do with the dossiers stored under the person's SSINs (``current_ssin`` and the earlier ones);
    ``held``: the dossiers the call already works on. None when there is nothing to do: no dossier, or only one and
    it is under the current SSIN.

    The survivor is the earliest-created of the dossiers the call holds, else the earliest-created of all (ties: the
    smaller id)."""
    if not dossiers or (len(dossiers) == 1 and dossiers[0].ssin == current_ssin):
        return None
    holding = set(held)
    candidates = [dossier for dossier in dossiers if dossier.id in holding] or list(dossiers)
    survivor = min(candidates, key=_age)
    absorbed = tuple(sorted((d for d in dossiers if d.id != survivor.id), key=_age))
    return Plan(survivor=survivor, absorbed=absorbed, current_ssin=current_ssin)


DOSSIER = "dossier"
DOSSIER_MERGE = "dossierMerge"


@dataclass(frozen=True)
class FollowRecord:
    """An audit record of the platform's own change to the person's dossiers, written during the call that made it
    (with that call's caller, operation and trace id)."""

    ssin: str
    """The earlier SSIN the moved or absorbed dossier was stored under."""
    resource_type: str
    """``dossier`` (moved; the id is its own) or ``dossierMerge`` (absorbed; the id is the absorbed dossier's,
    which leads to the survivor)."""
    resource_id: uuid.UUID


def records(plan: Plan) -> tuple[FollowRecord, ...]:
    """The records a plan's changes leave in the person's audit report: one per earlier SSIN whose dossier moved or
    was absorbed — never one naming the current SSIN, which the call's own record names (so a call records each of
    the person's SSINs at most once). A dossier absorbed from under the current SSIN is told on the record of the
    SSIN the survivor moved from."""
    found: dict[str, FollowRecord] = {}
    for dossier in plan.absorbed:
        if dossier.ssin != plan.current_ssin:
            found[dossier.ssin] = FollowRecord(dossier.ssin, DOSSIER_MERGE, dossier.id)
    if plan.moves:
        under_current = next((d for d in plan.absorbed if d.ssin == plan.current_ssin), None)
        moved = plan.survivor.ssin
        found[moved] = (
            FollowRecord(moved, DOSSIER_MERGE, under_current.id)
            if under_current is not None
            else FollowRecord(moved, DOSSIER, plan.survivor.id)
        )
    return tuple(found.values())


@dataclass(frozen=True)
class ConsentInForce:
    """A consent in force (recorded, not withdrawn) on one of the dossiers being merged."""

    id: uuid.UUID
    scope: str
    given_on: date
    """The day the person signed it."""
    recorded_at: datetime


def withdrawn_at_merge(consents: Iterable[ConsentInForce]) -> frozenset[uuid.UUID]:
    """The consents to mark withdrawn when dossiers merge: per scope, every consent in force but the one the person
    gave most recently (by the day signed, then the later recording, then the larger id) — a merged dossier has at
    most one consent of a scope in force, and it is the person's latest word."""
    given = list(consents)
    latest: dict[str, ConsentInForce] = {}
    for consent in given:
        kept = latest.get(consent.scope)
        if kept is None or _given(consent) > _given(kept):
            latest[consent.scope] = consent
    kept_ids = {consent.id for consent in latest.values()}
    return frozenset(consent.id for consent in given if consent.id not in kept_ids)


def _given(consent: ConsentInForce) -> tuple[date, datetime, uuid.UUID]:
    return consent.given_on, consent.recorded_at, consent.id


def person_ssins(start: str, replacements: Iterable[tuple[str, str]]) -> frozenset[str]:
    """Every SSIN of the person ``start`` names: the SSINs linked to it through the recorded replacements (old, new),
    in both directions and along chains. An audit query for the person covers them all."""
    neighbours: dict[str, set[str]] = {}
    for old, new in replacements:
        neighbours.setdefault(old, set()).add(new)
        neighbours.setdefault(new, set()).add(old)
    found = {start}
    pending = [start]
    while pending:
        for other in neighbours.get(pending.pop(), ()):
            if other not in found:
                found.add(other)
                pending.append(other)
    return frozenset(found)


def refusal_names(current: str, earlier: Sequence[str], last_seen: Mapping[str, datetime]) -> str:
    """The SSIN a refusal names when the caller reached the person through something stored under ``current`` (an
    id it holds, a line of its lists or feed) rather than by naming an SSIN.

    ``earlier``: the SSINs ``current`` replaced, most recent first; ``last_seen``: when the caller's organisation was
    last let see the person under each of their SSINs (its permitted records). An organisation that is not linked to
    the person under the current SSIN must not learn it, not even from its own audit log: the refusal names the SSIN
    under which it last saw the person (the current one if that is where), else the person's first SSIN, under which
    the dossier began (an organisation that reached the dossier saw the person at some time; with no record of it
    left, the first SSIN tells it the least new: an SSIN between the first and the current one could be news to it).
    Without earlier SSINs, the current one (there is no other)."""
    if not earlier:
        return current
    seen = [ssin for ssin in (current, *earlier) if ssin in last_seen]
    if seen:
        return max(seen, key=lambda ssin: last_seen[ssin])  # the first of equals: the most recent SSIN
    return earlier[-1]
