"""The person's identity over time, pure rules: which SSINs are the person's, which hops are recorded, which dossier
survives a merge, which consents stay in force, and which records a merge leaves in the person's audit report."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from rp_api.domain import identity as rules
from rp_api.domain.identity import ConsentInForce, FollowRecord, StoredDossier

X, Y, Z, W = "85073003328", "85073003426", "85073003524", "90010100131"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def dossier(ssin: str, days: int, status: str = "active", number: int = 0) -> StoredDossier:
    return StoredDossier(uuid.UUID(int=days * 100 + number + 1), ssin, T0 + timedelta(days=days), status)


A = dossier(X, 0, "closed")  # the oldest, under the first SSIN
B = dossier(Y, 5)
C = dossier(Z, 9)


@pytest.mark.parametrize(
    ("name", "current", "lists", "expected"),
    [
        ("no history", Z, [], ()),
        ("the chain followed", Z, [(X, Y, Z)], (X, Y)),
        ("the register's list", Z, [(), (X, Y)], (X, Y)),
        ("both, each once, in order", Z, [(Y, Z), (X, Y)], (Y, X)),
        ("the current SSIN is never an earlier one", Z, [(Z,), (Z, X)], (X,)),
    ],
)
def test_earlier_ssins(name: str, current: str, lists: list[tuple[str, ...]], expected: tuple[str, ...]) -> None:
    assert rules.earlier_ssins(current, *lists) == expected


@pytest.mark.parametrize(
    ("chain", "hops"),
    [((X,), ()), ((X, Y), ((X, Y),)), ((X, Y, Z), ((X, Y), (Y, Z)))],
)
def test_chain_hops(chain: tuple[str, ...], hops: tuple[tuple[str, str], ...]) -> None:
    assert rules.chain_hops(chain) == hops


@pytest.mark.parametrize(
    ("name", "dossiers", "held", "survivor", "absorbed", "moves"),
    [
        ("no dossier: nothing to do", [], [], None, (), False),
        ("one dossier under the current SSIN: nothing to do", [C], [], None, (), False),
        ("one dossier under an earlier SSIN: it moves", [A], [], A, (), True),
        ("two dossiers: the earlier-created survives and moves", [C, A], [], A, (C,), True),
        ("a chain of three: the oldest survives, the others in age order", [C, B, A], [], A, (B, C), True),
        ("the call holds the newer one: it survives", [A, C], [C.id], C, (A,), False),
        ("the call holds two: the older of those", [A, B, C], [C.id, B.id], B, (A, C), True),
        ("a held dossier of no concern changes nothing", [A, C], [uuid.UUID(int=7)], A, (C,), True),
    ],
)
def test_plan(
    name: str,
    dossiers: list[StoredDossier],
    held: list[uuid.UUID],
    survivor: StoredDossier | None,
    absorbed: tuple[StoredDossier, ...],
    moves: bool,
) -> None:
    plan = rules.plan(dossiers, Z, held)
    if survivor is None:
        assert plan is None
        return
    assert plan is not None
    assert (plan.survivor, plan.absorbed, plan.moves) == (survivor, absorbed, moves)


def test_same_age_is_decided_by_the_id() -> None:
    first, second = dossier(X, 3, number=1), dossier(Y, 3, number=2)
    plan = rules.plan([second, first], Z)
    assert plan is not None
    assert plan.survivor == first


@pytest.mark.parametrize(
    ("name", "dossiers", "reopens"),
    [
        ("the absorbed one was active: its items lift an explicit close", [A, C], True),
        ("the absorbed one was closed: the survivor's status holds", [A, dossier(Z, 9, "closed")], False),
        ("a move alone reopens nothing", [A], False),
    ],
)
def test_a_merge_reopens_when_an_absorbed_dossier_was_active(
    name: str, dossiers: list[StoredDossier], reopens: bool
) -> None:
    plan = rules.plan(dossiers, Z)
    assert plan is not None
    assert plan.reopens is reopens


def consent(scope: str, given: int, recorded: int = 0, number: int = 0) -> ConsentInForce:
    return ConsentInForce(
        uuid.UUID(int=given * 1000 + recorded * 10 + number + 1),
        scope,
        date(2026, 1, 1) + timedelta(days=given),
        T0 + timedelta(days=recorded),
    )


OLD, NEW = consent("occupationalPhysicianContact", 1), consent("occupationalPhysicianContact", 20)
NEW_RECORDED_LATER = consent("occupationalPhysicianContact", 20, recorded=1)
NEW_RECORDED_LAST = consent("occupationalPhysicianContact", 20, recorded=2)
OTHER_SCOPE = consent("anotherScope", 0)


@pytest.mark.parametrize(
    ("name", "consents", "withdrawn"),
    [
        ("none", [], set()),
        ("one in force stays", [OLD], set()),
        ("two of one scope: the one given last stays", [NEW, OLD], {OLD.id}),
        (
            "given the same day: the one recorded last stays",
            [NEW_RECORDED_LAST, NEW_RECORDED_LATER],
            {NEW_RECORDED_LATER.id},
        ),
        ("scopes apart", [OLD, OTHER_SCOPE], set()),
        ("three of one scope", [OLD, NEW_RECORDED_LATER, NEW], {OLD.id, NEW.id}),
    ],
)
def test_consents_withdrawn_at_merge(name: str, consents: list[ConsentInForce], withdrawn: set[uuid.UUID]) -> None:
    assert rules.withdrawn_at_merge(iter(consents)) == withdrawn


@pytest.mark.parametrize(
    ("name", "dossiers", "expected"),
    [
        ("a move: its earlier SSIN, the dossier's id", [A], [FollowRecord(X, rules.DOSSIER, A.id)]),
        (
            "a merge into the earlier one: the move names the one absorbed from under the current SSIN",
            [A, C],
            [FollowRecord(X, rules.DOSSIER_MERGE, C.id)],
        ),
        (
            "a chain: one record per earlier SSIN, none for the current one",
            [A, B, C],
            [FollowRecord(Y, rules.DOSSIER_MERGE, B.id), FollowRecord(X, rules.DOSSIER_MERGE, C.id)],
        ),
        (
            "the survivor is under the current SSIN: the absorbed one's SSIN",
            [dossier(Z, 0), B],
            [FollowRecord(Y, rules.DOSSIER_MERGE, B.id)],
        ),
    ],
)
def test_records_name_each_earlier_ssin_once(
    name: str, dossiers: list[StoredDossier], expected: list[FollowRecord]
) -> None:
    plan = rules.plan(dossiers, Z)
    assert plan is not None
    records = rules.records(plan)
    assert sorted(records, key=lambda r: r.ssin) == sorted(expected, key=lambda r: r.ssin)
    assert Z not in {r.ssin for r in records}
    assert len({r.ssin for r in records}) == len(records)


@pytest.mark.parametrize(
    ("name", "start", "replacements", "expected"),
    [
        ("nothing recorded", X, [], {X}),
        ("forwards", X, [(X, Y)], {X, Y}),
        ("backwards", Y, [(X, Y)], {X, Y}),
        ("a chain from its middle", Y, [(X, Y), (Y, Z)], {X, Y, Z}),
        ("two records merged into one person", Z, [(X, Z), (Y, Z)], {X, Y, Z}),
        ("another person is not reached", X, [(X, Y), (Z, W)], {X, Y}),
        ("a loop ends", X, [(X, Y), (Y, X)], {X, Y}),
    ],
)
def test_person_ssins(name: str, start: str, replacements: list[tuple[str, str]], expected: set[str]) -> None:
    assert rules.person_ssins(start, replacements) == expected


@pytest.mark.parametrize(
    ("name", "current", "earlier", "seen_days", "expected"),
    [
        ("no earlier SSIN: the current one", Z, (), {}, Z),
        ("no earlier SSIN, never seen: the current one", Z, (), {X: 1}, Z),
        ("seen under the one replaced", Z, (Y, X), {Y: 3}, Y),
        ("seen under the first only", Z, (Y, X), {X: 3}, X),
        ("seen under the current one since", Z, (Y, X), {Y: 3, Z: 4}, Z),
        ("seen under an earlier one last", Z, (Y, X), {Z: 2, X: 5}, X),
        ("never seen: the first SSIN", Z, (Y, X), {}, X),
        ("never seen, one earlier SSIN: that one", Z, (Y,), {}, Y),
        ("seen under another person only: as never seen", Z, (Y,), {W: 9}, Y),
        ("equal times: the most recent SSIN", Z, (Y, X), {X: 3, Y: 3}, Y),
    ],
)
def test_refusal_names(
    name: str, current: str, earlier: tuple[str, ...], seen_days: dict[str, int], expected: str
) -> None:
    last_seen = {ssin: T0 + timedelta(days=days) for ssin, days in seen_days.items()}
    assert rules.refusal_names(current, earlier, last_seen) == expected
