"""Who creates a dossier, as a table: every organisation type × role × what the caller starts × whether a dossier
exists × whether the person is deceased."""

from __future__ import annotations

import itertools

import pytest

from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.dossier_creation import Opening, Start, may_start, opening

T, R = OrganisationType, Role
FORM, REQUEST = Start.REGISTRATION_FORM, Start.REQUEST

STARTERS: dict[tuple[OrganisationType, Role], frozenset[Start]] = {
    (T.INSURER, R.MEDICAL_ADVISOR): frozenset({FORM, REQUEST}),
    (T.INSURER, R.MULTIDISCIPLINARY_TEAM): frozenset({FORM}),
    (T.INSURER, R.RETURN_TO_WORK_COORDINATOR): frozenset({FORM, REQUEST}),
    (T.INSURER, R.ADMINISTRATIVE): frozenset({FORM}),
    (T.INSURER, R.AUDITOR): frozenset(),
    # a regional service asks on a valid registration form: it starts with the form (routing C), never a request
    (T.REGIONAL_SERVICE, R.REFERENCE_ADVISOR): frozenset({FORM}),
    (T.REGIONAL_SERVICE, R.LIST_MANAGER): frozenset(),  # §48: the lists only
    (T.REGIONAL_SERVICE, R.AUDITOR): frozenset(),
    (T.PREVENTION_SERVICE, R.OCCUPATIONAL_PHYSICIAN): frozenset({FORM}),
    (T.PREVENTION_SERVICE, R.NURSE): frozenset(),
    (T.PREVENTION_SERVICE, R.MEDICAL_SECRETARIAT): frozenset(),
    (T.PREVENTION_SERVICE, R.ADMINISTRATIVE): frozenset(),
    (T.PREVENTION_SERVICE, R.AUDITOR): frozenset(),
    # INAMI decides, it starts no trajectory (so it never creates a dossier, not even for a deceased person)
    (T.INAMI, R.SOCIAL_EXPERT): frozenset(),
    (T.INAMI, R.MEDICAL_INSPECTOR): frozenset(),
    (T.INAMI, R.AUDITOR): frozenset(),
}
"""What each role of each organisation type may start, written out by hand."""


def test_the_table_names_every_role_of_every_type() -> None:
    assert set(STARTERS) == {(kind, role) for kind, roles in ROLES_BY_TYPE.items() for role in roles}


def expected(
    kind: OrganisationType, roles: frozenset[Role], start: Start | None, exists: bool, deceased: bool
) -> Opening:
    if start is None:
        return Opening.FOUND if exists else Opening.NO_DOSSIER
    if not any(start in STARTERS[(kind, role)] for role in roles):
        return Opening.ROLE_CANNOT_START
    if deceased:
        return Opening.DECEASED
    return Opening.FOUND if exists else Opening.CREATED


@pytest.mark.parametrize("kind", list(OrganisationType))
def test_every_case_of_every_role(kind: OrganisationType) -> None:
    roles = sorted(ROLES_BY_TYPE[kind])
    held_sets = [frozenset({role}) for role in roles] + [frozenset(pair) for pair in itertools.combinations(roles, 2)]
    checked = 0
    for held, start, exists, deceased in itertools.product(held_sets, [None, *Start], (False, True), (False, True)):
        outcome = opening(start, organisation_type=kind, roles=held, exists=exists, deceased=deceased)
        assert outcome is expected(kind, held, start, exists, deceased), (held, start, exists, deceased)
        checked += 1
    assert checked == len(held_sets) * 3 * 2 * 2


@pytest.mark.parametrize(
    ("start", "exists", "deceased"), list(itertools.product([None, *Start], (False, True), (False, True)))
)
def test_nothing_is_created_by_a_lookup_or_for_a_deceased_person(
    start: Start | None, exists: bool, deceased: bool
) -> None:
    for kind, roles in ROLES_BY_TYPE.items():
        for role in roles:
            outcome = opening(start, organisation_type=kind, roles=frozenset({role}), exists=exists, deceased=deceased)
            if start is None or deceased or exists:
                assert outcome is not Opening.CREATED


@pytest.mark.parametrize(
    ("kind", "role", "start", "allowed"),
    [
        (T.INSURER, R.ADMINISTRATIVE, REQUEST, False),  # an insurer's administrative fills forms, asks nothing
        (T.REGIONAL_SERVICE, R.REFERENCE_ADVISOR, REQUEST, False),
        (T.PREVENTION_SERVICE, R.OCCUPATIONAL_PHYSICIAN, REQUEST, False),
        (T.PREVENTION_SERVICE, R.NURSE, FORM, False),
        (T.REGIONAL_SERVICE, R.LIST_MANAGER, FORM, False),
        (T.INAMI, R.SOCIAL_EXPERT, REQUEST, False),
        (T.INSURER, R.MEDICAL_ADVISOR, REQUEST, True),
        (T.REGIONAL_SERVICE, R.REFERENCE_ADVISOR, FORM, True),
    ],
)
def test_may_start(kind: OrganisationType, role: Role, start: Start, allowed: bool) -> None:
    assert may_start(start, kind, frozenset({role})) is allowed


def test_a_role_that_cannot_start_learns_nothing_of_the_dossier_or_a_death() -> None:
    """403 whether or not a dossier exists and whether or not the person is deceased: the answer to a caller that may
    not start tells it nothing about the person's dossier or death."""
    answers = {
        opening(FORM, organisation_type=T.INAMI, roles=frozenset({R.SOCIAL_EXPERT}), exists=exists, deceased=deceased)
        for exists, deceased in itertools.product((False, True), (False, True))
    }
    assert answers == {Opening.ROLE_CANNOT_START}
