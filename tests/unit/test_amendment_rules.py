"""Amendments and extensions of requests: who, in which state, the merge patch, what voids the insurer's validation,
training ids. Each rule as a full table."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from rp_api.domain import amendments as rules
from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.requests import RequestStatus, RequestType, may_submit

S = RequestStatus
T = OrganisationType
EVERY_ACTOR = [(t, r) for t, roles in ROLES_BY_TYPE.items() for r in sorted(roles)]
REQUESTERS = {
    (T.REGIONAL_SERVICE, Role.REFERENCE_ADVISOR),
    (T.INSURER, Role.MEDICAL_ADVISOR),
    (T.INSURER, Role.RETURN_TO_WORK_COORDINATOR),
}


@pytest.mark.parametrize(("actor", "is_requester"), list(itertools.product(EVERY_ACTOR, [True, False])))
def test_only_the_requester_in_a_requester_role_amends_and_extends(
    actor: tuple[OrganisationType, Role], is_requester: bool
) -> None:
    organisation_type, role = actor
    expected = is_requester and actor in REQUESTERS
    assert rules.may_amend(organisation_type, frozenset({role}), is_requester=is_requester) is expected
    assert rules.may_extend(organisation_type, frozenset({role}), is_requester=is_requester) is expected
    assert may_submit(organisation_type, frozenset({role})) is (actor in REQUESTERS)


AMENDABLE = {S.AWAITING_INSURER_VALIDATION: True, S.AT_INAMI: True}
EXTENDABLE = {S.APPROVED: True}


@pytest.mark.parametrize("status", list(RequestStatus))
def test_which_states_are_amended_and_extended(status: RequestStatus) -> None:
    assert rules.amendable(status) is AMENDABLE.get(status, False)
    assert rules.extendable(status) is EXTENDABLE.get(status, False)


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        # RFC 7396, appendix A (the examples of the RFC)
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        # a request's content
        (
            {"trainingProject": "x", "insurerContacts": {"advisingPhysician": {"name": "A", "phone": "1"}}},
            {"insurerContacts": {"advisingPhysician": {"phone": None}}, "trainingProject": None},
            {"insurerContacts": {"advisingPhysician": {"name": "A"}}},
        ),
        ({"trainings": [{"id": "t1"}, {"id": "t2"}]}, {"trainings": [{"id": "t2"}]}, {"trainings": [{"id": "t2"}]}),
        ({"trainings": [{"id": "t1"}]}, {}, {"trainings": [{"id": "t1"}]}),
    ],
)
def test_merge_patch(target: Any, patch: Any, expected: Any) -> None:
    before = repr(target), repr(patch)
    assert rules.merge_patch(target, patch) == expected
    assert (repr(target), repr(patch)) == before  # neither is changed


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"a": 1}, {"a": 1}, set()),
        ({"a": 1}, {"a": 2}, {"a"}),
        ({"a": 1}, {}, {"a"}),
        ({"a": None}, {}, set()),
        ({}, {"b": [1]}, {"b"}),
        ({"a": [1, 2], "b": "x"}, {"a": [2, 1], "b": "x"}, {"a"}),
    ],
)
def test_changed(before: dict[str, Any], after: dict[str, Any], expected: set[str]) -> None:
    assert rules.changed(before, after) == expected


CHANGES = [
    frozenset(),
    frozenset({"trainings"}),
    frozenset({"trainings", "totalCost"}),
    frozenset({"totalCost"}),
    frozenset({"trainingProject"}),
    frozenset({"insurerContacts", "referenceAdvisor"}),
]


@pytest.mark.parametrize(
    ("request_type", "requester", "validated", "changes"),
    list(itertools.product(RequestType, [T.REGIONAL_SERVICE, T.INSURER], [None, True, False], CHANGES)),
)
def test_what_voids_the_insurers_validation(
    request_type: RequestType, requester: OrganisationType, validated: bool | None, changes: frozenset[str]
) -> None:
    # only a regional service's training waits for the insurer's validation, and only its trainings and their cost
    # are what the insurer validated
    expected = (
        request_type is RequestType.TRAINING
        and requester is T.REGIONAL_SERVICE
        and validated is not None
        and bool(changes & {"trainings", "totalCost"})
    )
    assert rules.resets_validation(request_type, requester, validated=validated, changes=changes) is expected


@pytest.mark.parametrize(("status", "reset"), list(itertools.product(sorted(AMENDABLE), [True, False])))
def test_the_state_after_an_amendment(status: RequestStatus, reset: bool) -> None:
    expected = S.AWAITING_INSURER_VALIDATION if reset else status
    assert rules.status_after_amendment(status, reset=reset) is expected


@pytest.mark.parametrize(
    ("current", "given", "wrong", "ids"),
    [
        (["t1"], [None], [], ["t2"]),
        (["t1"], ["t1"], [], ["t1"]),
        (["t1", "t2"], ["t2", None], [], ["t2", "t3"]),
        (["t1", "t2", "t3"], [None, "t1"], [], ["t4", "t1"]),  # t2 and t3 dropped: t4 names the new one
        ([], [None, None], [], ["t1", "t2"]),
        (["t1"], ["t9"], [0], None),
        (["t1", "t2"], ["t1", "t1"], [1], None),
        (["t1"], [None, "t2", "t1"], [1], None),
    ],
)
def test_training_ids(current: list[str], given: list[str | None], wrong: list[int], ids: list[str] | None) -> None:
    assert rules.unknown_training_ids(current, given) == wrong
    if ids is not None:
        assigned = rules.training_ids(current, given)
        assert assigned == ids
        assert len(set(assigned)) == len(assigned)
        assert {i for i, g in zip(assigned, given, strict=True) if g is None}.isdisjoint(current)
