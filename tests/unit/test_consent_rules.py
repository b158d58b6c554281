"""The consent rules as tables (deliberation 26/060 §63): who may record, withdraw and read a dossier's consents (every
organisation type and role, every action), what needs a consent, and the day "today" is in Belgium."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.consent import (
    NEEDS,
    WHO_MAY,
    ConsentAction,
    ConsentScope,
    Contact,
    belgian_date,
    in_force,
    may,
    needed,
    needed_to_converse,
    recording_role,
)

T, R = OrganisationType, Role
REC, WDR, READ = ConsentAction.RECORD, ConsentAction.WITHDRAW, ConsentAction.READ
PHYSICIAN_CONTACT = ConsentScope.OCCUPATIONAL_PHYSICIAN_CONTACT

EXPECTED: dict[tuple[OrganisationType, Role], set[ConsentAction]] = {
    (T.INSURER, R.MEDICAL_ADVISOR): {REC, WDR, READ},
    (T.INSURER, R.MULTIDISCIPLINARY_TEAM): {REC, WDR, READ},
    (T.INSURER, R.RETURN_TO_WORK_COORDINATOR): {REC, WDR, READ},
    (T.INSURER, R.ADMINISTRATIVE): {WDR, READ},
    (T.INSURER, R.AUDITOR): set(),
    (T.PREVENTION_SERVICE, R.OCCUPATIONAL_PHYSICIAN): {REC, WDR, READ},
    (T.PREVENTION_SERVICE, R.NURSE): {WDR, READ},
    (T.PREVENTION_SERVICE, R.MEDICAL_SECRETARIAT): {WDR, READ},
    (T.PREVENTION_SERVICE, R.ADMINISTRATIVE): set(),
    (T.PREVENTION_SERVICE, R.AUDITOR): set(),
    (T.REGIONAL_SERVICE, R.REFERENCE_ADVISOR): {READ},
    (T.REGIONAL_SERVICE, R.LIST_MANAGER): set(),
    (T.REGIONAL_SERVICE, R.AUDITOR): set(),
    (T.INAMI, R.SOCIAL_EXPERT): {READ},
    (T.INAMI, R.MEDICAL_INSPECTOR): {READ},
    (T.INAMI, R.AUDITOR): set(),
}
"""Every organisation type and role of the actors table, with what it may do with a dossier's consents."""

CELLS = [
    (organisation_type, role, action, action in EXPECTED[(organisation_type, role)])
    for (organisation_type, role), action in itertools.product(EXPECTED, ConsentAction)
]


def test_the_table_covers_every_organisation_type_and_role_and_nothing_else() -> None:
    every_pair = {(kind, role) for kind, roles in ROLES_BY_TYPE.items() for role in roles}
    assert set(EXPECTED) == every_pair
    assert set(WHO_MAY) == every_pair
    assert all(permission.reason.strip() for permission in WHO_MAY.values())


@pytest.mark.parametrize(("organisation_type", "role", "action", "allowed"), CELLS)
def test_each_cell(organisation_type: OrganisationType, role: Role, action: ConsentAction, allowed: bool) -> None:
    assert may(action, organisation_type, frozenset({role})) is allowed
    assert (action in WHO_MAY[(organisation_type, role)].actions) is allowed


@pytest.mark.parametrize(("organisation_type", "role"), sorted(EXPECTED))
def test_whoever_records_withdraws_and_whoever_withdraws_reads(organisation_type: OrganisationType, role: Role) -> None:
    actions = WHO_MAY[(organisation_type, role)].actions
    if REC in actions:
        assert WDR in actions
    if WDR in actions:
        assert READ in actions


@pytest.mark.parametrize("action", list(ConsentAction))
def test_a_role_of_another_organisation_type_gives_nothing(action: ConsentAction) -> None:
    # an occupational physician's role claimed by an insurer, a medical advisor's by a regional service
    assert not may(action, T.INSURER, frozenset({R.OCCUPATIONAL_PHYSICIAN}))
    assert not may(action, T.REGIONAL_SERVICE, frozenset({R.MEDICAL_ADVISOR}))
    assert not may(action, T.INAMI, frozenset())


@pytest.mark.parametrize(
    ("organisation_type", "roles", "expected"),
    [
        (T.INSURER, {R.ADMINISTRATIVE, R.RETURN_TO_WORK_COORDINATOR}, {REC, WDR, READ}),  # the union of the roles
        (T.PREVENTION_SERVICE, {R.ADMINISTRATIVE, R.NURSE}, {WDR, READ}),
        (T.REGIONAL_SERVICE, {R.LIST_MANAGER, R.REFERENCE_ADVISOR}, {READ}),
        (T.REGIONAL_SERVICE, {R.LIST_MANAGER, R.AUDITOR}, set()),
    ],
)
def test_several_roles_give_what_one_of_them_gives(
    organisation_type: OrganisationType, roles: set[Role], expected: set[ConsentAction]
) -> None:
    assert {action for action in ConsentAction if may(action, organisation_type, frozenset(roles))} == expected


@pytest.mark.parametrize(
    ("organisation_type", "roles", "recorded_as"),
    [
        (T.INSURER, {R.RETURN_TO_WORK_COORDINATOR}, R.RETURN_TO_WORK_COORDINATOR),
        (T.INSURER, {R.RETURN_TO_WORK_COORDINATOR, R.MEDICAL_ADVISOR}, R.MEDICAL_ADVISOR),  # first by name
        (T.INSURER, {R.ADMINISTRATIVE, R.MULTIDISCIPLINARY_TEAM}, R.MULTIDISCIPLINARY_TEAM),  # only the one that may
        (T.INSURER, {R.ADMINISTRATIVE}, None),
        (T.PREVENTION_SERVICE, {R.NURSE, R.OCCUPATIONAL_PHYSICIAN}, R.OCCUPATIONAL_PHYSICIAN),
        (T.PREVENTION_SERVICE, {R.NURSE}, None),
        (T.REGIONAL_SERVICE, {R.REFERENCE_ADVISOR}, None),
        (T.INAMI, {R.SOCIAL_EXPERT, R.MEDICAL_INSPECTOR}, None),
    ],
)
def test_the_role_a_consent_is_recorded_under(
    organisation_type: OrganisationType, roles: set[Role], recorded_as: Role | None
) -> None:
    assert recording_role(organisation_type, frozenset(roles)) == recorded_as


NEEDED: dict[tuple[Contact, OrganisationType], ConsentScope | None] = {
    (Contact.REGISTRATION_FORM, T.PREVENTION_SERVICE): PHYSICIAN_CONTACT,
    (Contact.REGISTRATION_FORM, T.INSURER): None,
    (Contact.REGISTRATION_FORM, T.REGIONAL_SERVICE): None,
    (Contact.REGISTRATION_FORM, T.INAMI): None,
    (Contact.CONVERSATION_WITH_REGIONAL_SERVICE, T.PREVENTION_SERVICE): PHYSICIAN_CONTACT,
    (Contact.CONVERSATION_WITH_REGIONAL_SERVICE, T.INSURER): None,
    (Contact.CONVERSATION_WITH_REGIONAL_SERVICE, T.REGIONAL_SERVICE): None,
    (Contact.CONVERSATION_WITH_REGIONAL_SERVICE, T.INAMI): None,
}


def test_the_needs_table_covers_every_step_and_organisation_type() -> None:
    assert set(NEEDED) == set(itertools.product(Contact, OrganisationType))
    assert set(NEEDS) == {key for key, scope in NEEDED.items() if scope is not None}
    assert all(need.reason.strip() for need in NEEDS.values())


@pytest.mark.parametrize(("contact", "organisation_type"), sorted(NEEDED))
def test_what_needs_a_consent(contact: Contact, organisation_type: OrganisationType) -> None:
    assert needed(contact, organisation_type) == NEEDED[(contact, organisation_type)]


@pytest.mark.parametrize(
    ("caller", "participants", "expected"),
    [
        (T.PREVENTION_SERVICE, {T.PREVENTION_SERVICE, T.REGIONAL_SERVICE}, PHYSICIAN_CONTACT),
        (T.PREVENTION_SERVICE, {T.PREVENTION_SERVICE, T.INSURER, T.REGIONAL_SERVICE, T.INAMI}, PHYSICIAN_CONTACT),
        (T.PREVENTION_SERVICE, {T.PREVENTION_SERVICE, T.INSURER}, None),  # no employment partner in it
        (T.PREVENTION_SERVICE, {T.PREVENTION_SERVICE, T.INAMI}, None),
        (T.PREVENTION_SERVICE, set(), None),
        (T.INSURER, {T.INSURER, T.REGIONAL_SERVICE}, None),
        (T.REGIONAL_SERVICE, {T.REGIONAL_SERVICE, T.PREVENTION_SERVICE}, None),  # the partner writing: not gated
        (T.INAMI, {T.INAMI, T.REGIONAL_SERVICE, T.PREVENTION_SERVICE}, None),
    ],
)
def test_conversations_that_need_a_consent(
    caller: OrganisationType, participants: set[OrganisationType], expected: ConsentScope | None
) -> None:
    assert needed_to_converse(caller, participants) == expected
    assert needed_to_converse(caller, iter(sorted(participants))) == expected  # any iterable, read once


def test_in_force_until_withdrawn() -> None:
    assert in_force(None)
    assert not in_force(datetime(2026, 11, 20, 10, tzinfo=UTC))


# 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC (the last Sundays of March and October).
BELGIAN_DATES = [
    (datetime(2026, 1, 15, 22, 59, tzinfo=UTC), date(2026, 1, 15)),  # 23:59 CET
    (datetime(2026, 1, 15, 23, 0, tzinfo=UTC), date(2026, 1, 16)),  # 00:00 CET
    (datetime(2026, 3, 28, 22, 30, tzinfo=UTC), date(2026, 3, 28)),  # 23:30 CET, the eve of the change
    (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), date(2026, 3, 29)),  # 01:59 CET, the minute before it
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), date(2026, 3, 29)),  # 03:00 CEST
    (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), date(2026, 3, 30)),  # 00:30 CEST
    (datetime(2026, 7, 1, 21, 59, tzinfo=UTC), date(2026, 7, 1)),  # 23:59 CEST
    (datetime(2026, 7, 1, 22, 0, tzinfo=UTC), date(2026, 7, 2)),  # 00:00 CEST
    (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), date(2026, 10, 25)),  # 00:30 CEST
    (datetime(2026, 10, 25, 0, 59, tzinfo=UTC), date(2026, 10, 25)),  # 02:59 CEST
    (datetime(2026, 10, 25, 22, 30, tzinfo=UTC), date(2026, 10, 25)),  # 23:30 CET
    (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), date(2027, 1, 1)),  # the new year, in Brussels first
    (datetime(2026, 7, 2, 2, 59, tzinfo=timezone(timedelta(hours=5))), date(2026, 7, 1)),  # 21:59 UTC, another offset
    (datetime(2027, 3, 28, 1, 0, tzinfo=UTC), date(2027, 3, 28)),  # 2027: the change on 28 March
    (datetime(2027, 3, 27, 22, 30, tzinfo=UTC), date(2027, 3, 27)),
    (datetime(2027, 3, 28, 22, 30, tzinfo=UTC), date(2027, 3, 29)),
]


@pytest.mark.parametrize(("now", "expected"), BELGIAN_DATES)
def test_the_day_in_belgium(now: datetime, expected: date) -> None:
    assert belgian_date(now) == expected
