"""Work routing as full tables: who a registration form and a request are addressed to, in every state, from the
person's links and the item's own parties."""

from __future__ import annotations

import pytest

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.actors import OrganisationType
from rp_api.domain.forms import FormStatus
from rp_api.domain.links import PersonLinks
from rp_api.domain.requests import RequestStatus
from rp_api.domain.routing import Directory, Party, form_addressees, request_addressees

REGISTRY = OrganisationRegistry.load()


def number(label: str) -> str:
    found = REGISTRY.find(label)
    assert found is not None
    return found.enterprise_number


CM, SOLIDARIS, VDAB, FOREM, IDEWE, INAMI = (number(x) for x in ("CM", "Solidaris", "VDAB", "Forem", "Idewe", "INAMI"))
DIRECTORY = REGISTRY.directory
LINKS = PersonLinks("85073003328", insurer_oa_number=100, regional_services=frozenset({VDAB, FOREM}))
"""Insured with CM (100), registered with VDAB and Forem."""

INSURER = Party(CM, OrganisationType.INSURER)
REGIONAL = Party(VDAB, OrganisationType.REGIONAL_SERVICE)
PREVENTION = Party(IDEWE, OrganisationType.PREVENTION_SERVICE)
F = FormStatus
FORMS = {
    # (creator, status): addressees
    (INSURER, F.DRAFT): {CM},
    (INSURER, F.SUBMITTED): {CM, VDAB, FOREM},
    (INSURER, F.CANCELLED): {CM},
    (PREVENTION, F.DRAFT): {IDEWE},
    (PREVENTION, F.SUBMITTED): {IDEWE, CM, VDAB, FOREM},
    (PREVENTION, F.CANCELLED): {IDEWE, CM},
    (REGIONAL, F.DRAFT): {VDAB},
    (REGIONAL, F.AWAITING_TARGET_GROUP_DECISION): {VDAB, CM},
    (REGIONAL, F.SUBMITTED): {VDAB, CM, FOREM},
    (REGIONAL, F.NOT_IN_TARGET_GROUP): {VDAB, CM},
    (REGIONAL, F.CANCELLED): {VDAB, CM},
}


@pytest.mark.parametrize(("creator", "status"), list(FORMS))
def test_form_addressees(creator: Party, status: FormStatus) -> None:
    assert form_addressees(status, creator, LINKS, DIRECTORY) == FORMS[(creator, status)]


def test_every_form_state_has_a_row_for_its_creators() -> None:
    """The table above covers each state a form of each creator can be in (routing C only for regional services)."""
    standard = {s for s in FormStatus if s not in {F.AWAITING_TARGET_GROUP_DECISION, F.NOT_IN_TARGET_GROUP}}
    for creator in (INSURER, PREVENTION):
        assert standard == {status for (who, status) in FORMS if who == creator}
    assert set(FormStatus) == {status for (who, status) in FORMS if who == REGIONAL}


R = RequestStatus
BEFORE_INAMI = {R.AWAITING_INSURER_VALIDATION, R.REFUSED_BY_INSURER, R.WITHDRAWN}


@pytest.mark.parametrize("status", list(RequestStatus))
@pytest.mark.parametrize(
    ("requester", "form_creator", "expected"),
    [
        (REGIONAL, INSURER, {VDAB, CM, FOREM}),
        (REGIONAL, PREVENTION, {VDAB, CM, FOREM, IDEWE}),
        (REGIONAL, REGIONAL, {VDAB, CM, FOREM}),
        (INSURER, None, {CM, VDAB, FOREM}),
    ],
)
def test_request_addressees(
    status: RequestStatus, requester: Party, form_creator: Party | None, expected: set[str]
) -> None:
    """INAMI is told once the request reaches it; a withdrawn request keeps the addressees it had (they only
    accumulate), so INAMI is not added by the withdrawal itself."""
    with_inami = expected if status in BEFORE_INAMI else expected | {INAMI}
    assert request_addressees(status, requester, form_creator, LINKS, DIRECTORY) == with_inami


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        (PersonLinks("85073003328"), {VDAB}),  # no insurer, registered nowhere: the requester only
        (PersonLinks("85073003328", insurer_oa_number=300), {VDAB, SOLIDARIS}),
        (PersonLinks("85073003328", insurer_oa_number=777), {VDAB}),  # an OA number no insurer of the registry has
    ],
)
def test_addressees_follow_the_links(links: PersonLinks, expected: set[str]) -> None:
    assert request_addressees(R.AWAITING_INSURER_VALIDATION, REGIONAL, None, links, DIRECTORY) == expected


def test_the_directory_knows_every_insurer_by_its_oa_number_and_inami() -> None:
    assert DIRECTORY.insurers[100] == {CM}
    assert DIRECTORY.inami == {INAMI}
    assert Directory(insurers={}, inami=frozenset()).insurer_of(LINKS) == frozenset()
    cin = REGISTRY.find("CIN")
    assert cin is not None
    assert all(cin.enterprise_number not in numbers for numbers in DIRECTORY.insurers.values())
