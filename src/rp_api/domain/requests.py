"""Requests (demande de formation / de trajet d'accompagnement) and their life cycle. Pure rules.

Routes:
- a regional service's reference advisor asks on a valid (submitted) registration form: a training waits for the
  insurer's validation (validation par l'OA) before it goes to INAMI; a coaching path goes to INAMI at once;
- an insurer asks without a form: the request goes to INAMI at once.
INAMI decides in weekly rounds (approved or refused). The requester may withdraw a request INAMI has not decided.
"""

from __future__ import annotations

from enum import StrEnum

from rp_api.domain.actors import OrganisationType, Role


class RequestType(StrEnum):
    TRAINING = "training"
    """Demande de formation."""
    COACHING = "coaching"
    """Demande de trajet d'accompagnement."""


class RequestStatus(StrEnum):
    AWAITING_INSURER_VALIDATION = "awaitingInsurerValidation"
    REFUSED_BY_INSURER = "refusedByInsurer"
    AT_INAMI = "atInami"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class RequestAction(StrEnum):
    VALIDATE = "validate"
    REFUSE_VALIDATION = "refuseValidation"
    APPROVE = "approve"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"
    ADD_MEDICAL_INFORMATION = "addMedicalInformation"
    ADD_MEDICAL_ADVICE = "addMedicalAdvice"


REQUESTER_ROLES: dict[OrganisationType, frozenset[Role]] = {
    OrganisationType.REGIONAL_SERVICE: frozenset({Role.REFERENCE_ADVISOR}),
    OrganisationType.INSURER: frozenset({Role.MEDICAL_ADVISOR, Role.RETURN_TO_WORK_COORDINATOR}),
}
VALIDATOR_ROLES = frozenset({Role.MEDICAL_ADVISOR, Role.RETURN_TO_WORK_COORDINATOR})

_ACTORS: dict[RequestAction, tuple[OrganisationType, frozenset[Role]]] = {
    RequestAction.VALIDATE: (OrganisationType.INSURER, VALIDATOR_ROLES),
    RequestAction.REFUSE_VALIDATION: (OrganisationType.INSURER, VALIDATOR_ROLES),
    RequestAction.APPROVE: (OrganisationType.INAMI, frozenset({Role.SOCIAL_EXPERT})),
    RequestAction.REFUSE: (OrganisationType.INAMI, frozenset({Role.SOCIAL_EXPERT})),
    # health data is written by physicians only (the visibility table): the médecin-conseil, not the team under it
    RequestAction.ADD_MEDICAL_INFORMATION: (OrganisationType.INSURER, frozenset({Role.MEDICAL_ADVISOR})),
    RequestAction.ADD_MEDICAL_ADVICE: (OrganisationType.INAMI, frozenset({Role.MEDICAL_INSPECTOR})),
}

TRANSITIONS: dict[tuple[RequestAction, RequestStatus], RequestStatus] = {
    (RequestAction.VALIDATE, RequestStatus.AWAITING_INSURER_VALIDATION): RequestStatus.AT_INAMI,
    (RequestAction.REFUSE_VALIDATION, RequestStatus.AWAITING_INSURER_VALIDATION): RequestStatus.REFUSED_BY_INSURER,
    (RequestAction.APPROVE, RequestStatus.AT_INAMI): RequestStatus.APPROVED,
    (RequestAction.REFUSE, RequestStatus.AT_INAMI): RequestStatus.REFUSED,
    (RequestAction.WITHDRAW, RequestStatus.AWAITING_INSURER_VALIDATION): RequestStatus.WITHDRAWN,
    (RequestAction.WITHDRAW, RequestStatus.AT_INAMI): RequestStatus.WITHDRAWN,
    # Additions that leave the state as it is:
    (
        RequestAction.ADD_MEDICAL_INFORMATION,
        RequestStatus.AWAITING_INSURER_VALIDATION,
    ): RequestStatus.AWAITING_INSURER_VALIDATION,
    (RequestAction.ADD_MEDICAL_INFORMATION, RequestStatus.AT_INAMI): RequestStatus.AT_INAMI,
    (RequestAction.ADD_MEDICAL_ADVICE, RequestStatus.AT_INAMI): RequestStatus.AT_INAMI,
}


def initial_status(request_type: RequestType, requester: OrganisationType) -> RequestStatus:
    if requester is OrganisationType.REGIONAL_SERVICE and request_type is RequestType.TRAINING:
        return RequestStatus.AWAITING_INSURER_VALIDATION
    return RequestStatus.AT_INAMI


def may_submit(organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    return not roles.isdisjoint(REQUESTER_ROLES.get(organisation_type, frozenset()))


def runs_trajectory(organisation_type: OrganisationType, roles: frozenset[Role], *, is_requester: bool) -> bool:
    """Whether the caller runs the trajectory of a decided request (it reports its hours and records its follow-up):
    the party that asked for it, in a role that may ask — the regional service for the trainings it asked for on a
    registration form, the insurer for those it asked for without one."""
    return is_requester and may_submit(organisation_type, roles)


def needs_registration_form(organisation_type: OrganisationType) -> bool:
    """A regional service asks on a valid registration form; an insurer may ask without one."""
    return organisation_type is OrganisationType.REGIONAL_SERVICE


def may_act(
    action: RequestAction, *, organisation_type: OrganisationType, roles: frozenset[Role], is_requester: bool
) -> bool:
    if action is RequestAction.WITHDRAW:
        return is_requester and may_submit(organisation_type, roles)
    required_type, required_roles = _ACTORS[action]
    return organisation_type is required_type and not roles.isdisjoint(required_roles)


def next_status(action: RequestAction, status: RequestStatus) -> RequestStatus | None:
    return TRANSITIONS.get((action, status))
