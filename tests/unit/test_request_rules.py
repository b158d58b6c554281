"""The request life cycle as a full transition table, and who may act."""

from __future__ import annotations

import itertools

import pytest

from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.requests import (
    RequestAction,
    RequestStatus,
    RequestType,
    initial_status,
    may_act,
    may_submit,
    next_status,
)

S = RequestStatus
EXPECTED = {
    (RequestAction.VALIDATE, S.AWAITING_INSURER_VALIDATION): S.AT_INAMI,
    (RequestAction.REFUSE_VALIDATION, S.AWAITING_INSURER_VALIDATION): S.REFUSED_BY_INSURER,
    (RequestAction.APPROVE, S.AT_INAMI): S.APPROVED,
    (RequestAction.REFUSE, S.AT_INAMI): S.REFUSED,
    (RequestAction.WITHDRAW, S.AWAITING_INSURER_VALIDATION): S.WITHDRAWN,
    (RequestAction.WITHDRAW, S.AT_INAMI): S.WITHDRAWN,
    (RequestAction.ADD_MEDICAL_INFORMATION, S.AWAITING_INSURER_VALIDATION): S.AWAITING_INSURER_VALIDATION,
    (RequestAction.ADD_MEDICAL_INFORMATION, S.AT_INAMI): S.AT_INAMI,
    (RequestAction.ADD_MEDICAL_ADVICE, S.AT_INAMI): S.AT_INAMI,
}


@pytest.mark.parametrize(("action", "status"), list(itertools.product(RequestAction, RequestStatus)))
def test_full_transition_table(action: RequestAction, status: RequestStatus) -> None:
    assert next_status(action, status) == EXPECTED.get((action, status))


@pytest.mark.parametrize(
    ("request_type", "requester", "status"),
    [
        (RequestType.TRAINING, OrganisationType.REGIONAL_SERVICE, S.AWAITING_INSURER_VALIDATION),
        (RequestType.COACHING, OrganisationType.REGIONAL_SERVICE, S.AT_INAMI),
        (RequestType.TRAINING, OrganisationType.INSURER, S.AT_INAMI),
        (RequestType.COACHING, OrganisationType.INSURER, S.AT_INAMI),
    ],
)
def test_routes(request_type: RequestType, requester: OrganisationType, status: RequestStatus) -> None:
    assert initial_status(request_type, requester) is status


ACTORS = {
    RequestAction.VALIDATE: {
        (OrganisationType.INSURER, Role.MEDICAL_ADVISOR),
        (OrganisationType.INSURER, Role.RETURN_TO_WORK_COORDINATOR),
    },
    RequestAction.REFUSE_VALIDATION: {
        (OrganisationType.INSURER, Role.MEDICAL_ADVISOR),
        (OrganisationType.INSURER, Role.RETURN_TO_WORK_COORDINATOR),
    },
    RequestAction.APPROVE: {(OrganisationType.INAMI, Role.SOCIAL_EXPERT)},
    RequestAction.REFUSE: {(OrganisationType.INAMI, Role.SOCIAL_EXPERT)},
    RequestAction.ADD_MEDICAL_INFORMATION: {(OrganisationType.INSURER, Role.MEDICAL_ADVISOR)},
    RequestAction.ADD_MEDICAL_ADVICE: {(OrganisationType.INAMI, Role.MEDICAL_INSPECTOR)},
}
EVERY_ACTOR = [(t, r) for t, roles in ROLES_BY_TYPE.items() for r in sorted(roles)]


@pytest.mark.parametrize(("action", "actor"), list(itertools.product(ACTORS, EVERY_ACTOR)))
def test_who_may_act(action: RequestAction, actor: tuple[OrganisationType, Role]) -> None:
    organisation_type, role = actor
    assert may_act(action, organisation_type=organisation_type, roles=frozenset({role}), is_requester=False) is (
        actor in ACTORS[action]
    )


@pytest.mark.parametrize("actor", EVERY_ACTOR)
def test_only_the_requester_withdraws(actor: tuple[OrganisationType, Role]) -> None:
    organisation_type, role = actor
    requester = may_submit(organisation_type, frozenset({role}))
    assert (
        may_act(RequestAction.WITHDRAW, organisation_type=organisation_type, roles=frozenset({role}), is_requester=True)
        is requester
    )
    assert not may_act(
        RequestAction.WITHDRAW, organisation_type=organisation_type, roles=frozenset({role}), is_requester=False
    )
