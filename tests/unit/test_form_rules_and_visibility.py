"""Registration-form rules and the visibility map, as tables."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.forms import FormAction, FormStatus, Routing, may_act, may_create, may_read, next_status
from rp_api.domain.visibility import HEALTH_FIELDS, Block, Viewer, viewers_of, visible
from rp_api.i18n import language
from rp_api.services.views import incapacity_at_least_one_year

D, A, S, N, C = (
    FormStatus.DRAFT,
    FormStatus.AWAITING_TARGET_GROUP_DECISION,
    FormStatus.SUBMITTED,
    FormStatus.NOT_IN_TARGET_GROUP,
    FormStatus.CANCELLED,
)
STD, RC = Routing.STANDARD, Routing.ROUTING_C

# (action, from, routing) -> to; every combination not listed is refused.
EXPECTED = {
    (FormAction.UPDATE, D, STD): D,
    (FormAction.UPDATE, D, RC): D,
    (FormAction.SUBMIT, D, STD): S,
    (FormAction.SUBMIT, D, RC): A,
    (FormAction.CANCEL, D, STD): C,
    (FormAction.CANCEL, D, RC): C,
    (FormAction.CANCEL, S, STD): C,
    (FormAction.CANCEL, S, RC): C,
    (FormAction.CANCEL, A, RC): C,
}


@pytest.mark.parametrize(
    ("action", "status", "routing"),
    list(itertools.product([a for a in FormAction if a is not FormAction.DECIDE_TARGET_GROUP], FormStatus, Routing)),
)
def test_full_transition_table(action: FormAction, status: FormStatus, routing: Routing) -> None:
    assert next_status(action, status, routing) == EXPECTED.get((action, status, routing))


@pytest.mark.parametrize("status", list(FormStatus))
@pytest.mark.parametrize("answer", [True, False])
def test_target_group_decision(status: FormStatus, answer: bool) -> None:
    expected = (S if answer else N) if status is A else None
    assert next_status(FormAction.DECIDE_TARGET_GROUP, status, RC, in_target_group=answer) == expected
    assert next_status(FormAction.DECIDE_TARGET_GROUP, status, RC) is None


@pytest.mark.parametrize(
    ("organisation_type", "role", "allowed"),
    [
        *[(OrganisationType.INSURER, role, True) for role in ROLES_BY_TYPE[OrganisationType.INSURER] - {Role.AUDITOR}],
        (OrganisationType.INSURER, Role.AUDITOR, False),
        (OrganisationType.PREVENTION_SERVICE, Role.OCCUPATIONAL_PHYSICIAN, True),
        (OrganisationType.PREVENTION_SERVICE, Role.NURSE, False),
        (OrganisationType.PREVENTION_SERVICE, Role.ADMINISTRATIVE, False),
        (OrganisationType.REGIONAL_SERVICE, Role.REFERENCE_ADVISOR, True),
        (OrganisationType.REGIONAL_SERVICE, Role.LIST_MANAGER, False),
        *[(OrganisationType.INAMI, role, False) for role in ROLES_BY_TYPE[OrganisationType.INAMI]],
    ],
)
def test_who_may_create(organisation_type: OrganisationType, role: Role, allowed: bool) -> None:
    assert may_create(organisation_type, frozenset({role})) is allowed
    assert (
        may_act(FormAction.SUBMIT, organisation_type=organisation_type, roles=frozenset({role}), is_creator=True)
        is allowed
    )
    assert not may_act(
        FormAction.SUBMIT, organisation_type=organisation_type, roles=frozenset({role}), is_creator=False
    )


@pytest.mark.parametrize("role", sorted(ROLES_BY_TYPE[OrganisationType.INSURER]))
def test_who_decides_the_target_group(role: Role) -> None:
    allowed = role not in (Role.ADMINISTRATIVE, Role.AUDITOR)
    assert (
        may_act(
            FormAction.DECIDE_TARGET_GROUP,
            organisation_type=OrganisationType.INSURER,
            roles=frozenset({role}),
            is_creator=False,
        )
        is allowed
    )
    assert not may_act(
        FormAction.DECIDE_TARGET_GROUP,
        organisation_type=OrganisationType.REGIONAL_SERVICE,
        roles=frozenset({Role.REFERENCE_ADVISOR}),
        is_creator=True,
    )


@pytest.mark.parametrize(
    ("status", "organisation_type", "is_creator", "readable"),
    [
        (D, OrganisationType.INSURER, True, True),
        (D, OrganisationType.INSURER, False, False),
        (D, OrganisationType.INAMI, False, False),
        (S, OrganisationType.REGIONAL_SERVICE, False, True),
        (A, OrganisationType.REGIONAL_SERVICE, False, False),
        (A, OrganisationType.REGIONAL_SERVICE, True, True),
        (C, OrganisationType.REGIONAL_SERVICE, False, False),
        (A, OrganisationType.INSURER, False, True),
        (S, OrganisationType.INAMI, False, True),
    ],
)
def test_who_may_read(
    status: FormStatus, organisation_type: OrganisationType, is_creator: bool, readable: bool
) -> None:
    assert may_read(status, organisation_type=organisation_type, is_creator=is_creator) is readable


# The visibility table itself, cell by cell: tests/unit/test_visibility_table.py.
def test_unknown_fields_are_hidden() -> None:
    assert not visible("form.somethingNew", viewers_of(OrganisationType.INAMI, frozenset(Role)))


def test_a_regional_service_never_sees_the_incapacity_date_nor_medical_information() -> None:
    viewers = viewers_of(OrganisationType.REGIONAL_SERVICE, frozenset(ROLES_BY_TYPE[OrganisationType.REGIONAL_SERVICE]))
    # of the health fields, only the physician's question's functional capacities: it is its addressee (§52 vi)
    assert {field for field in HEALTH_FIELDS if visible(field, viewers)} == {Block.FORM_QUESTION_FUNCTIONAL_CAPACITIES}


@pytest.mark.parametrize(
    ("organisation_type", "roles"),
    [
        (OrganisationType.INSURER, {Role.MEDICAL_ADVISOR}),
        (OrganisationType.INSURER, {Role.MEDICAL_ADVISOR, Role.ADMINISTRATIVE}),
        (OrganisationType.PREVENTION_SERVICE, {Role.MEDICAL_SECRETARIAT}),
        (OrganisationType.REGIONAL_SERVICE, {Role.LIST_MANAGER}),
        (OrganisationType.INAMI, {Role.MEDICAL_INSPECTOR}),
        (OrganisationType.INAMI, {Role.AUDITOR}),
    ],
)
def test_viewers_of(organisation_type: OrganisationType, roles: set[Role]) -> None:
    assert viewers_of(organisation_type, frozenset(roles)) == {Viewer(organisation_type, role) for role in roles}


@pytest.mark.parametrize(
    ("start", "today", "expected"),
    [
        (date(2025, 11, 22), date(2026, 11, 22), True),
        (date(2025, 11, 23), date(2026, 11, 22), False),
        (date(2024, 2, 29), date(2025, 2, 28), False),
        (date(2024, 2, 29), date(2025, 3, 1), True),
    ],
)
def test_incapacity_at_least_one_year(start: date, today: date, expected: bool) -> None:
    assert incapacity_at_least_one_year(start, today) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("fr-BE", "fr"),
        ("nl-BE,nl;q=0.9,en;q=0.5", "nl"),
        ("en;q=0.2,de;q=0.8", "de"),
        ("es", "en"),
        ("fr;q=0", "en"),
    ],
)
def test_accept_language(header: str | None, expected: str) -> None:
    assert language(header) == expected
