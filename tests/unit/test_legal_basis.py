"""Each actor's legal basis (deliberation 26/060, §15–25): one per organisation type, what a permit records, what a
source call's ``Legal-Context`` header says."""

from __future__ import annotations

import pytest

from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.legal_basis import GENERAL_CONTEXT, LEGAL_BASIS, basis_of, legal_context
from rp_api.domain.links import Employment, PersonLinks
from rp_api.domain.policy import Action, Caller, decide

TABLE = {
    OrganisationType.INSURER: ("organismes assureurs", "guide them back to work"),
    OrganisationType.REGIONAL_SERVICE: ("services publics régionaux de l'emploi", "guide and train"),
    OrganisationType.PREVENTION_SERVICE: ("services externes de prévention", "return to work"),
    OrganisationType.INAMI: ("INAMI/RIZIV", "decide on the requests"),
}


def test_every_organisation_type_has_its_basis() -> None:
    assert set(LEGAL_BASIS) == set(OrganisationType) == set(TABLE)


@pytest.mark.parametrize(("organisation_type", "expected"), TABLE.items(), ids=[t.value for t in TABLE])
def test_each_basis_names_the_deliberation_the_actor_and_its_mission(
    organisation_type: OrganisationType, expected: tuple[str, str]
) -> None:
    actor, mission = expected
    basis = basis_of(organisation_type)
    assert basis.text.startswith("CSI/CSSS 26/060, §15–25 (")  # no finer paragraph than the deliberation's range
    assert actor in basis.actor
    assert mission in basis.mission
    assert basis.actor in basis.text
    assert basis.mission in basis.text
    header = legal_context(organisation_type)
    assert header == basis.context
    assert header.isascii()  # an HTTP header value
    assert header.startswith(GENERAL_CONTEXT)
    assert header.endswith(f"actor={organisation_type.value}")


def test_the_bases_differ_and_no_actor_gets_the_general_one() -> None:
    assert len({basis.text for basis in LEGAL_BASIS.values()}) == len(LEGAL_BASIS)
    assert len({legal_context(t) for t in OrganisationType} | {legal_context(None)}) == len(OrganisationType) + 1
    assert legal_context(None) == GENERAL_CONTEXT == "deliberation CSI/CSSS 26/060"


LINKED = PersonLinks(
    ssin="85073003328",
    insurer_oa_number=300,
    regional_services=frozenset({"0887010362"}),
    employments=(Employment("0411159046", frozenset({"0484833813"})),),
)
CALLERS = {
    OrganisationType.INSURER: Caller(OrganisationType.INSURER, "0411702543", 300, frozenset({Role.MEDICAL_ADVISOR})),
    OrganisationType.REGIONAL_SERVICE: Caller(
        OrganisationType.REGIONAL_SERVICE, "0887010362", None, frozenset({Role.REFERENCE_ADVISOR})
    ),
    OrganisationType.PREVENTION_SERVICE: Caller(
        OrganisationType.PREVENTION_SERVICE, "0484833813", None, frozenset({Role.OCCUPATIONAL_PHYSICIAN})
    ),
    OrganisationType.INAMI: Caller(OrganisationType.INAMI, "0206653946", None, frozenset({Role.SOCIAL_EXPERT})),
}


@pytest.mark.parametrize("organisation_type", list(CALLERS), ids=[t.value for t in CALLERS])
def test_a_permit_carries_the_callers_basis_and_a_denial_none(organisation_type: OrganisationType) -> None:
    caller = CALLERS[organisation_type]
    decision = decide(caller, Action.CONSULT_DOSSIER, LINKED)
    assert (decision.allowed, decision.legal_basis) == (True, basis_of(organisation_type).text)
    unknown = decide(caller, Action.CONSULT_DOSSIER, PersonLinks(ssin=LINKED.ssin, registered=False))
    assert (unknown.allowed, unknown.legal_basis) == (False, None)
