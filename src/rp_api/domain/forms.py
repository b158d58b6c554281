"""Registration forms (formulaire d'inscription, AMF): who may do what, in which state. Pure rules.

Two routes:
- standard: an insurer (any insurer role) or a prevention service's occupational physician fills the form in;
  submitting it makes it valid at once;
- routing C: a regional service's reference advisor starts it; on submit it waits for the insurer's target-group
  decision (décision groupe cible): yes makes it valid, no closes it.
The creating organisation updates (while draft), submits and cancels. A draft is visible to its creator only.
"""

from __future__ import annotations

from enum import StrEnum

from rp_api.domain.actors import OrganisationType, Role


class FormStatus(StrEnum):
    DRAFT = "draft"
    AWAITING_TARGET_GROUP_DECISION = "awaitingTargetGroupDecision"
    SUBMITTED = "submitted"
    """Valid: the regional service may act on it."""
    NOT_IN_TARGET_GROUP = "notInTargetGroup"
    CANCELLED = "cancelled"


class Routing(StrEnum):
    STANDARD = "standard"
    ROUTING_C = "routingC"


class FormAction(StrEnum):
    UPDATE = "update"
    SUBMIT = "submit"
    CANCEL = "cancel"
    DECIDE_TARGET_GROUP = "decideTargetGroup"


CREATOR_ROLES: dict[OrganisationType, frozenset[Role]] = {
    OrganisationType.INSURER: frozenset(
        {Role.MEDICAL_ADVISOR, Role.MULTIDISCIPLINARY_TEAM, Role.RETURN_TO_WORK_COORDINATOR, Role.ADMINISTRATIVE}
    ),
    OrganisationType.PREVENTION_SERVICE: frozenset({Role.OCCUPATIONAL_PHYSICIAN}),
    OrganisationType.REGIONAL_SERVICE: frozenset({Role.REFERENCE_ADVISOR}),
}
TARGET_GROUP_DECIDERS = frozenset({Role.MEDICAL_ADVISOR, Role.MULTIDISCIPLINARY_TEAM, Role.RETURN_TO_WORK_COORDINATOR})

TRANSITIONS: dict[tuple[FormAction, FormStatus, Routing], FormStatus] = {
    (FormAction.UPDATE, FormStatus.DRAFT, Routing.STANDARD): FormStatus.DRAFT,
    (FormAction.UPDATE, FormStatus.DRAFT, Routing.ROUTING_C): FormStatus.DRAFT,
    (FormAction.SUBMIT, FormStatus.DRAFT, Routing.STANDARD): FormStatus.SUBMITTED,
    (FormAction.SUBMIT, FormStatus.DRAFT, Routing.ROUTING_C): FormStatus.AWAITING_TARGET_GROUP_DECISION,
    (FormAction.CANCEL, FormStatus.DRAFT, Routing.STANDARD): FormStatus.CANCELLED,
    (FormAction.CANCEL, FormStatus.DRAFT, Routing.ROUTING_C): FormStatus.CANCELLED,
    (FormAction.CANCEL, FormStatus.SUBMITTED, Routing.STANDARD): FormStatus.CANCELLED,
    (FormAction.CANCEL, FormStatus.SUBMITTED, Routing.ROUTING_C): FormStatus.CANCELLED,
    (FormAction.CANCEL, FormStatus.AWAITING_TARGET_GROUP_DECISION, Routing.ROUTING_C): FormStatus.CANCELLED,
}
"""Every allowed (action, state, route) and the state it leads to; the target-group decision is apart (yes/no)."""


def routing_for(organisation_type: OrganisationType) -> Routing:
    return Routing.ROUTING_C if organisation_type is OrganisationType.REGIONAL_SERVICE else Routing.STANDARD


def may_create(organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    return not roles.isdisjoint(CREATOR_ROLES.get(organisation_type, frozenset()))


def next_status(
    action: FormAction, status: FormStatus, routing: Routing, *, in_target_group: bool | None = None
) -> FormStatus | None:
    """The state after ``action``, or None when the action is not allowed from ``status``."""
    if action is FormAction.DECIDE_TARGET_GROUP:
        if status is not FormStatus.AWAITING_TARGET_GROUP_DECISION or in_target_group is None:
            return None
        return FormStatus.SUBMITTED if in_target_group else FormStatus.NOT_IN_TARGET_GROUP
    return TRANSITIONS.get((action, status, routing))


def may_act(
    action: FormAction,
    *,
    organisation_type: OrganisationType,
    roles: frozenset[Role],
    is_creator: bool,
) -> bool:
    """Who may ask for the action (the state is checked separately, by :func:`next_status`)."""
    if action is FormAction.DECIDE_TARGET_GROUP:
        return organisation_type is OrganisationType.INSURER and not roles.isdisjoint(TARGET_GROUP_DECIDERS)
    return is_creator and may_create(organisation_type, roles)


def may_read(status: FormStatus, *, organisation_type: OrganisationType, is_creator: bool) -> bool:
    """A draft is its creator's; every other state is readable by whoever may consult the dossier (the person
    guard has checked the link: for a regional service, that JobSeeker shows the person registered with it)."""
    if is_creator:
        return True
    if status is FormStatus.DRAFT:
        return False
    if organisation_type is OrganisationType.REGIONAL_SERVICE:
        return status is FormStatus.SUBMITTED
    return True
