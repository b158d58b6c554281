"""The access policy, tested exhaustively (organisation type × role × link pattern × action) and against an
independent oracle on random link graphs (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.links import Employment, PersonLinks
from rp_api.domain.policy import (
    Action,
    AuditScope,
    Caller,
    Reason,
    audit_scope,
    decide,
    reads_lists_only,
    role_allows,
    works_on_dossiers,
)

REGISTRY = OrganisationRegistry.load()
ORGS = list(REGISTRY)
SSIN = "85073003328"
NEW_SSIN = "85073003426"


def org(label: str) -> Caller:
    found = REGISTRY.find(label)
    assert found is not None
    return Caller(found.type, found.enterprise_number, found.oa_number, frozenset())


CM, SOLIDARIS, CIN = org("CM"), org("Solidaris"), org("CIN")
VDAB, FOREM = org("VDAB"), org("Forem")
IDEWE, MENSURA = org("Idewe"), org("Mensura")
INAMI = org("INAMI")
EMPLOYER, OTHER_EMPLOYER = "0411159046", "0484833813"

# --- the oracle: a different formulation of the deliberation's rules ---------------------------------------------
MAY_DO = {
    # the auditor reads the log, never a dossier; the list manager reads its lists, never a dossier (§48)
    Action.CONSULT_DOSSIER: set(Role) - {Role.AUDITOR, Role.LIST_MANAGER},
    Action.CONTRIBUTE_TO_DOSSIER: set(Role) - {Role.AUDITOR, Role.LIST_MANAGER},
    Action.READ_LISTS: set(Role) - {Role.AUDITOR},
    Action.CONSULT_HEALTH_DATA: {
        Role.MEDICAL_ADVISOR,
        Role.MULTIDISCIPLINARY_TEAM,
        Role.OCCUPATIONAL_PHYSICIAN,
        Role.NURSE,
        Role.MEDICAL_SECRETARIAT,
        Role.MEDICAL_INSPECTOR,
    },
}


def organisations_linked_to(links: PersonLinks) -> set[tuple[OrganisationType, str]]:
    """Each authentic source links one kind of organisation: (type, enterprise number) pairs."""
    linked = {(o.type, o.enterprise_number) for o in ORGS if o.type is OrganisationType.INAMI}
    linked |= {
        (OrganisationType.INSURER, o.enterprise_number)
        for o in ORGS
        if o.oa_number is not None and o.oa_number == links.insurer_oa_number
    }
    linked |= {(OrganisationType.REGIONAL_SERVICE, number) for number in links.regional_services}
    for employment in links.employments:
        linked |= {(OrganisationType.PREVENTION_SERVICE, number) for number in employment.prevention_services}
    return linked


def oracle(caller: Caller, action: Action, links: PersonLinks) -> bool:
    if not links.registered or links.replaced_by:
        return False
    if (caller.organisation_type, caller.enterprise_number) not in organisations_linked_to(links):
        return False
    if links.deceased and caller.organisation_type is not OrganisationType.INAMI:
        return False
    return any(role in MAY_DO[action] for role in caller.roles)


# --- link patterns ------------------------------------------------------------------------------------------------
INSURER_PATTERNS = {"cm": 100, "solidaris": 300, "none": None}
REGIONAL_PATTERNS = {
    "vdab": frozenset({VDAB.enterprise_number}),
    "forem": frozenset({FOREM.enterprise_number}),
    "both": frozenset({VDAB.enterprise_number, FOREM.enterprise_number}),
    "none": frozenset(),
}
EMPLOYMENT_PATTERNS = {
    "idewe": (Employment(EMPLOYER, frozenset({IDEWE.enterprise_number})),),
    "mensura": (Employment(EMPLOYER, frozenset({MENSURA.enterprise_number})),),
    "two employers": (
        Employment(EMPLOYER, frozenset({MENSURA.enterprise_number})),
        Employment(OTHER_EMPLOYER, frozenset({IDEWE.enterprise_number})),
    ),
    "employer without prevention service": (Employment(EMPLOYER),),
    "none": (),
}


def all_link_patterns() -> list[PersonLinks]:
    patterns = []
    for insurer, regional, employment, deceased, replaced, registered in itertools.product(
        INSURER_PATTERNS.values(),
        REGIONAL_PATTERNS.values(),
        EMPLOYMENT_PATTERNS.values(),
        (False, True),
        (False, True),
        (True, False),
    ):
        patterns.append(
            PersonLinks(
                ssin=SSIN,
                registered=registered,
                death_date=date(2026, 3, 1) if deceased else None,
                replaced_by=NEW_SSIN if replaced else None,
                insurer_oa_number=insurer,
                regional_services=regional,
                employments=employment,
            )
        )
    return patterns


CALLERS = [CM, SOLIDARIS, CIN, VDAB, FOREM, IDEWE, MENSURA, INAMI]
LINKS = all_link_patterns()


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.enterprise_number)
def test_access_matrix_is_exhaustively_the_oracle(caller: Caller) -> None:
    checked = 0
    for role, action, links in itertools.product(sorted(ROLES_BY_TYPE[caller.organisation_type]), Action, LINKS):
        who = Caller(caller.organisation_type, caller.enterprise_number, caller.oa_number, frozenset({role}))
        decision = decide(who, action, links)
        assert decision.allowed == oracle(who, action, links), (role, action, links)
        if decision.allowed:
            assert decision.legal_basis
            assert "26/060" in decision.legal_basis
        else:
            assert decision.legal_basis is None
        checked += 1
    assert checked == len(ROLES_BY_TYPE[caller.organisation_type]) * len(Action) * len(LINKS)


REASON_CASES = [
    (
        "insurer of the person",
        CM,
        Role.RETURN_TO_WORK_COORDINATOR,
        PersonLinks(SSIN, insurer_oa_number=100),
        True,
        Reason.INSURER_AFFILIATION,
    ),
    ("other insurer", SOLIDARIS, Role.ADMINISTRATIVE, PersonLinks(SSIN, insurer_oa_number=100), False, Reason.NO_LINK),
    (
        "CIN has no affiliates",
        CIN,
        Role.ADMINISTRATIVE,
        PersonLinks(SSIN, insurer_oa_number=100),
        False,
        Reason.NO_LINK,
    ),
    (
        "registered with VDAB",
        VDAB,
        Role.REFERENCE_ADVISOR,
        PersonLinks(SSIN, regional_services=REGIONAL_PATTERNS["vdab"]),
        True,
        Reason.REGIONAL_REGISTRATION,
    ),
    (
        "registered elsewhere",
        FOREM,
        Role.REFERENCE_ADVISOR,
        PersonLinks(SSIN, regional_services=REGIONAL_PATTERNS["vdab"]),
        False,
        Reason.NO_LINK,
    ),
    (
        "employer affiliated",
        IDEWE,
        Role.NURSE,
        PersonLinks(SSIN, employments=EMPLOYMENT_PATTERNS["two employers"]),
        True,
        Reason.EMPLOYER_AFFILIATION,
    ),
    (
        "employer without service",
        IDEWE,
        Role.NURSE,
        PersonLinks(SSIN, employments=EMPLOYMENT_PATTERNS["employer without prevention service"]),
        False,
        Reason.NO_LINK,
    ),
    ("INAMI always", INAMI, Role.SOCIAL_EXPERT, PersonLinks(SSIN), True, Reason.INAMI_MISSION),
    (
        "INAMI and the deceased",
        INAMI,
        Role.SOCIAL_EXPERT,
        PersonLinks(SSIN, death_date=date(2026, 1, 1)),
        True,
        Reason.INAMI_MISSION,
    ),
    (
        "insurer and the deceased",
        CM,
        Role.MEDICAL_ADVISOR,
        PersonLinks(SSIN, death_date=date(2026, 1, 1), insurer_oa_number=100),
        False,
        Reason.DECEASED,
    ),
    (
        "unlinked never learns of a death",
        SOLIDARIS,
        Role.MEDICAL_ADVISOR,
        PersonLinks(SSIN, death_date=date(2026, 1, 1), insurer_oa_number=100),
        False,
        Reason.NO_LINK,
    ),
    (
        "replaced SSIN, its successor unknown to the decision: told to nobody",
        INAMI,
        Role.SOCIAL_EXPERT,
        PersonLinks(SSIN, replaced_by=NEW_SSIN),
        False,
        Reason.NO_LINK,
    ),
]


@pytest.mark.parametrize(
    ("name", "caller", "role", "links", "allowed", "reason"), REASON_CASES, ids=[c[0] for c in REASON_CASES]
)
def test_reasons(name: str, caller: Caller, role: Role, links: PersonLinks, allowed: bool, reason: Reason) -> None:
    who = Caller(caller.organisation_type, caller.enterprise_number, caller.oa_number, frozenset({role}))
    decision = decide(who, Action.CONSULT_DOSSIER, links)
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_a_replaced_ssin_is_decided_on_its_successor_for_inami() -> None:
    successor = PersonLinks(NEW_SSIN)
    expert = Caller(INAMI.organisation_type, INAMI.enterprise_number, None, frozenset({Role.SOCIAL_EXPERT}))
    decision = decide(expert, Action.CONSULT_DOSSIER, PersonLinks(SSIN, replaced_by=NEW_SSIN), successor)
    assert (decision.allowed, decision.reason, decision.replaced_by) == (True, Reason.INAMI_MISSION, NEW_SSIN)


@pytest.mark.parametrize(
    ("caller", "successor", "allowed", "reason"),
    [
        (CM, PersonLinks(NEW_SSIN, insurer_oa_number=100), True, Reason.INSURER_AFFILIATION),
        (CM, PersonLinks(NEW_SSIN, insurer_oa_number=300), False, Reason.NO_LINK),
        (SOLIDARIS, PersonLinks(NEW_SSIN, insurer_oa_number=100), False, Reason.NO_LINK),
        (
            VDAB,
            PersonLinks(NEW_SSIN, regional_services=frozenset({VDAB.enterprise_number})),
            True,
            Reason.REGIONAL_REGISTRATION,
        ),
        (VDAB, PersonLinks(NEW_SSIN), False, Reason.NO_LINK),
        (IDEWE, PersonLinks(NEW_SSIN, insurer_oa_number=100), False, Reason.NO_LINK),
        (CM, PersonLinks(NEW_SSIN, registered=False), False, Reason.NO_LINK),
        (CM, PersonLinks(NEW_SSIN, insurer_oa_number=100, death_date=date(2026, 1, 2)), False, Reason.DECEASED),
        (CM, PersonLinks(NEW_SSIN, insurer_oa_number=100, replaced_by="85073003524"), False, Reason.NO_LINK),
        (CM, None, False, Reason.NO_LINK),
    ],
)
def test_a_replaced_ssin_is_followed_only_for_an_organisation_linked_under_the_new_one(
    caller: Caller, successor: PersonLinks | None, allowed: bool, reason: Reason
) -> None:
    """A caller linked under the SSIN that replaces the one named is decided on that SSIN's links, and the decision
    names it (the call goes on about it); anyone else gets the unlinked caller's answer, and no successor."""
    who = Caller(caller.organisation_type, caller.enterprise_number, caller.oa_number, frozenset({Role.ADMINISTRATIVE}))
    if caller.organisation_type is OrganisationType.REGIONAL_SERVICE:
        who = Caller(who.organisation_type, who.enterprise_number, who.oa_number, frozenset({Role.REFERENCE_ADVISOR}))
    # the old SSIN's own links say nothing once it is replaced: even the old insurer learns nothing from them
    decision = decide(
        who, Action.CONSULT_DOSSIER, PersonLinks(SSIN, replaced_by=NEW_SSIN, insurer_oa_number=100), successor
    )
    assert (decision.allowed, decision.reason) == (allowed, reason)
    linked_under_the_new_one = reason is not Reason.NO_LINK
    assert decision.replaced_by == (NEW_SSIN if linked_under_the_new_one else None)


def test_a_linked_caller_whose_role_may_not_act_is_refused_on_the_successor_too() -> None:
    coordinator = Caller(CM.organisation_type, CM.enterprise_number, CM.oa_number, frozenset({Role.ADMINISTRATIVE}))
    successor = PersonLinks(NEW_SSIN, insurer_oa_number=100)
    decision = decide(coordinator, Action.CONSULT_HEALTH_DATA, PersonLinks(SSIN, replaced_by=NEW_SSIN), successor)
    assert (decision.allowed, decision.reason, decision.replaced_by) == (False, Reason.ROLE_NOT_ALLOWED, NEW_SSIN)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.RETURN_TO_WORK_COORDINATOR, Action.CONSULT_HEALTH_DATA, False),
        (Role.MEDICAL_ADVISOR, Action.CONSULT_HEALTH_DATA, True),
        (Role.MULTIDISCIPLINARY_TEAM, Action.CONSULT_HEALTH_DATA, True),
        (Role.ADMINISTRATIVE, Action.CONTRIBUTE_TO_DOSSIER, True),
        (Role.AUDITOR, Action.CONSULT_DOSSIER, False),
        (Role.AUDITOR, Action.CONTRIBUTE_TO_DOSSIER, False),
        (Role.AUDITOR, Action.READ_LISTS, False),
        (Role.ADMINISTRATIVE, Action.READ_LISTS, True),
    ],
)
def test_roles_per_action(role: Role, action: Action, allowed: bool) -> None:
    who = Caller(CM.organisation_type, CM.enterprise_number, 100, frozenset({role}))
    decision = decide(who, action, PersonLinks(SSIN, insurer_oa_number=100))
    assert decision.allowed is allowed
    assert decision.reason == (Reason.INSURER_AFFILIATION if allowed else Reason.ROLE_NOT_ALLOWED)


@pytest.mark.parametrize(
    ("caller", "roles", "person_named", "scope"),
    [
        (INAMI, {Role.AUDITOR}, True, AuditScope.EVERY_ORGANISATION),
        (INAMI, {Role.AUDITOR}, False, AuditScope.OWN_ORGANISATION),
        (INAMI, {Role.SOCIAL_EXPERT}, True, None),
        (INAMI, {Role.MEDICAL_INSPECTOR}, False, None),
        *[
            (org, {Role.AUDITOR}, named, AuditScope.OWN_ORGANISATION)
            for org in (CM, VDAB, IDEWE)
            for named in (True, False)
        ],
        (CM, {Role.MEDICAL_ADVISOR}, False, None),
        (CM, {Role.MEDICAL_ADVISOR, Role.AUDITOR}, True, AuditScope.OWN_ORGANISATION),
        (VDAB, {Role.LIST_MANAGER}, True, None),
    ],
)
def test_audit_scope(caller: Caller, roles: set[Role], person_named: bool, scope: AuditScope | None) -> None:
    who = Caller(caller.organisation_type, caller.enterprise_number, caller.oa_number, frozenset(roles))
    assert audit_scope(who, person_named=person_named) is scope


# --- every role × action, for a person linked to the caller's organisation -----------------------------------------
R, A = Role, Action
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    R.MEDICAL_ADVISOR: frozenset(A),
    R.MULTIDISCIPLINARY_TEAM: frozenset(A),
    R.RETURN_TO_WORK_COORDINATOR: frozenset({A.CONSULT_DOSSIER, A.CONTRIBUTE_TO_DOSSIER, A.READ_LISTS}),
    R.ADMINISTRATIVE: frozenset({A.CONSULT_DOSSIER, A.CONTRIBUTE_TO_DOSSIER, A.READ_LISTS}),
    R.REFERENCE_ADVISOR: frozenset({A.CONSULT_DOSSIER, A.CONTRIBUTE_TO_DOSSIER, A.READ_LISTS}),
    R.LIST_MANAGER: frozenset({A.READ_LISTS}),  # §48: the lists (decisions, hours), nothing else
    R.OCCUPATIONAL_PHYSICIAN: frozenset(A),
    R.NURSE: frozenset(A),
    R.MEDICAL_SECRETARIAT: frozenset(A),
    R.SOCIAL_EXPERT: frozenset({A.CONSULT_DOSSIER, A.CONTRIBUTE_TO_DOSSIER, A.READ_LISTS}),
    R.MEDICAL_INSPECTOR: frozenset(A),
    R.AUDITOR: frozenset(),  # the audit log, no person
}
"""What each role may do for a person its organisation is linked to, written out role by role."""


def linked_to(caller: Caller) -> PersonLinks:
    """A living person linked to the caller's organisation, whatever its type."""
    return PersonLinks(
        SSIN,
        insurer_oa_number=caller.oa_number,
        regional_services=frozenset({caller.enterprise_number}),
        employments=(Employment(EMPLOYER, frozenset({caller.enterprise_number})),),
    )


LINKABLE = [o for o in ORGS if o.type is not OrganisationType.INSURER or o.oa_number is not None]


def test_every_role_is_in_the_table() -> None:
    assert set(ROLE_ACTIONS) == set(Role)


@pytest.mark.parametrize("organisation", LINKABLE, ids=lambda o: o.name)
def test_every_set_of_roles_gets_exactly_the_actions_of_its_roles(organisation: Any) -> None:
    """Every set of roles of the organisation's type (a token may hold several) × every action: allowed exactly when
    one of the roles allows it (a reference advisor who is also list manager keeps everything), for the reason of the
    link, else ``roleNotAllowed``."""
    roles = sorted(ROLES_BY_TYPE[organisation.type])
    checked = 0
    for size in range(1, len(roles) + 1):
        for held in itertools.combinations(roles, size):
            who = Caller(organisation.type, organisation.enterprise_number, organisation.oa_number, frozenset(held))
            for action in Action:
                decision = decide(who, action, linked_to(who))
                expected = any(action in ROLE_ACTIONS[role] for role in held)
                assert decision.allowed is expected, (held, action)
                assert (decision.reason is Reason.ROLE_NOT_ALLOWED) is not expected, (held, action)
                assert role_allows(who.roles, action) is expected
                checked += 1
    assert checked == (2 ** len(roles) - 1) * len(Action)


@pytest.mark.parametrize(
    ("roles", "lists_only"),
    [
        ({Role.LIST_MANAGER}, True),
        ({Role.LIST_MANAGER, Role.AUDITOR}, True),  # the auditor's role adds the log, not a dossier
        ({Role.LIST_MANAGER, Role.REFERENCE_ADVISOR}, False),  # the reference advisor's role keeps everything
        ({Role.REFERENCE_ADVISOR}, False),
        ({Role.AUDITOR}, False),  # refused everything but the log anyway (works_on_dossiers)
        (set(), False),
        *[({role}, False) for role in Role if role is not Role.LIST_MANAGER and role is not Role.AUDITOR],
    ],
)
def test_who_reads_lists_only(roles: set[Role], lists_only: bool) -> None:
    assert reads_lists_only(frozenset(roles)) is lists_only


def test_a_list_manager_is_refused_every_dossier_action_whatever_the_links() -> None:
    """Whatever the person's links, a list manager's token is never allowed a dossier action; its lists are decided
    by the person's links like any other line (deceased: INAMI's only, so never a regional list)."""
    who = Caller(VDAB.organisation_type, VDAB.enterprise_number, None, frozenset({Role.LIST_MANAGER}))
    for links in LINKS:
        for action in (Action.CONSULT_DOSSIER, Action.CONTRIBUTE_TO_DOSSIER, Action.CONSULT_HEALTH_DATA):
            assert not decide(who, action, links).allowed
        assert decide(who, Action.READ_LISTS, links).allowed == oracle(who, Action.READ_LISTS, links)


def test_only_auditors_are_audit_only() -> None:
    assert [role for role in Role if not works_on_dossiers(frozenset({role}))] == [Role.AUDITOR]
    assert works_on_dossiers(frozenset({Role.AUDITOR, Role.ADMINISTRATIVE}))


def test_a_caller_without_roles_is_denied_everything() -> None:
    for action in Action:
        assert not decide(INAMI, action, PersonLinks(SSIN)).allowed


# --- random link graphs --------------------------------------------------------------------------------------------
enterprise_numbers = st.sampled_from([o.enterprise_number for o in ORGS] + [EMPLOYER, OTHER_EMPLOYER])
random_links = st.builds(
    PersonLinks,
    ssin=st.just(SSIN),
    registered=st.booleans(),
    death_date=st.none() | st.just(date(2025, 12, 31)),
    replaced_by=st.none() | st.just(NEW_SSIN),
    insurer_oa_number=st.none() | st.sampled_from([100, 200, 300, 400, 500, 600, 900]),
    regional_services=st.frozensets(enterprise_numbers, max_size=3),
    employments=st.lists(
        st.builds(Employment, enterprise_numbers, st.frozensets(enterprise_numbers, max_size=3)), max_size=4
    ).map(tuple),
)
random_callers = st.sampled_from(ORGS).flatmap(
    lambda o: st.frozensets(st.sampled_from(sorted(ROLES_BY_TYPE[o.type])), max_size=3).map(
        lambda roles: Caller(o.type, o.enterprise_number, o.oa_number, roles)
    )
)


@given(caller=random_callers, action=st.sampled_from(Action), links=random_links)
def test_policy_agrees_with_the_oracle_on_random_link_graphs(
    caller: Caller, action: Action, links: PersonLinks
) -> None:
    assert decide(caller, action, links).allowed == oracle(caller, action, links)


@given(caller=random_callers, action=st.sampled_from(Action), links=random_links)
def test_a_replaced_ssin_gets_its_successors_answer_on_random_link_graphs(
    caller: Caller, action: Action, links: PersonLinks
) -> None:
    """Naming the old SSIN of a person is naming the person: the same answer as for the SSIN that replaces it."""
    successor = PersonLinks(
        NEW_SSIN,
        registered=links.registered,
        death_date=links.death_date,
        insurer_oa_number=links.insurer_oa_number,
        regional_services=links.regional_services,
        employments=links.employments,
    )
    old = PersonLinks(SSIN, replaced_by=NEW_SSIN)
    assert decide(caller, action, old, successor).allowed == oracle(caller, action, successor)
