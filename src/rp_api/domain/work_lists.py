"""Work lists (listes de travail): what waits for each party. Pure rules.

A work list holds the registration forms or the requests *addressed* to the caller's organisation (work routing,
:mod:`rp_api.domain.routing`), narrowed by filters the caller gives and, optionally, by a **queue**: a named
filter for one party's next step (the insurer's validation, INAMI's social expert's weekly decisions, INAMI's
medical inspector's advice, the insurer's target-group decision, the regional service's valid forms). A queue is
a table row here: the states it holds, any further condition, and who may ask for it — a queue that would reveal
more than the items it lists (that medical information exists) is for those who may see that only.

Which lines the caller then sees is not this module's business: every line's person goes through the person guard
with the caller's current links, and every form through :func:`rp_api.domain.forms.may_read`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar

from rp_api.domain import forms
from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.forms import FormAction, FormStatus, Routing
from rp_api.domain.requests import RequestStatus, RequestType
from rp_api.domain.visibility import viewers_of, visible


class RequestQueue(StrEnum):
    AWAITING_INSURER_VALIDATION = "awaitingInsurerValidation"
    """Training requests of a regional service waiting for the insurer's validation (validation par l'OA)."""
    AT_INAMI = "atInami"
    """Requests at INAMI: the social expert's queue, from which the weekly decision round is made."""
    AWAITING_MEDICAL_ADVICE = "awaitingMedicalAdvice"
    """Requests at INAMI with the insurer physician's medical information and no medical advice yet: the queue of
    INAMI's medical inspector (médecin inspecteur SIDU)."""


class FormQueue(StrEnum):
    AWAITING_TARGET_GROUP_DECISION = "awaitingTargetGroupDecision"
    """Routing C forms waiting for the insurer's target-group decision (décision groupe cible)."""
    REGISTERED_WITH_ME = "registeredWithMe"
    """Valid (submitted) forms of persons registered with the calling regional service: it may ask on them."""


MayAsk = Callable[[OrganisationType, frozenset[Role]], bool]
"""Whether a caller of this organisation type with these roles may ask for a queue."""


def anyone(organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    """A queue that reveals nothing the plain status filter would not."""
    return True


def sees_medical_information(organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    """Physicians who may read a request's medical information (the visibility table): knowing that a request has
    some is for them only."""
    return visible("request.medicalInformation", viewers_of(organisation_type, roles))


def decides_target_group(organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    """The insurer roles that take the target-group decision (:data:`rp_api.domain.forms.TARGET_GROUP_DECIDERS`)."""
    return forms.may_act(
        FormAction.DECIDE_TARGET_GROUP, organisation_type=organisation_type, roles=roles, is_creator=False
    )


def regional_service(organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    return organisation_type is OrganisationType.REGIONAL_SERVICE


@dataclass(frozen=True)
class RequestQueueRule:
    statuses: frozenset[RequestStatus]
    with_medical_information: bool | None = None
    """True: only requests that carry medical information; None: whether or not."""
    with_medical_advice: bool | None = None
    """False: only requests without INAMI's medical advice yet; None: whether or not."""
    may_ask: MayAsk = anyone


@dataclass(frozen=True)
class FormQueueRule:
    statuses: frozenset[FormStatus]
    routing: Routing | None = None
    may_ask: MayAsk = anyone


REQUEST_QUEUES: dict[RequestQueue, RequestQueueRule] = {
    RequestQueue.AWAITING_INSURER_VALIDATION: RequestQueueRule(frozenset({RequestStatus.AWAITING_INSURER_VALIDATION})),
    RequestQueue.AT_INAMI: RequestQueueRule(frozenset({RequestStatus.AT_INAMI})),
    RequestQueue.AWAITING_MEDICAL_ADVICE: RequestQueueRule(
        frozenset({RequestStatus.AT_INAMI}),
        with_medical_information=True,
        with_medical_advice=False,
        may_ask=sees_medical_information,
    ),
}
FORM_QUEUES: dict[FormQueue, FormQueueRule] = {
    FormQueue.AWAITING_TARGET_GROUP_DECISION: FormQueueRule(
        frozenset({FormStatus.AWAITING_TARGET_GROUP_DECISION}), Routing.ROUTING_C, decides_target_group
    ),
    FormQueue.REGISTERED_WITH_ME: FormQueueRule(frozenset({FormStatus.SUBMITTED}), may_ask=regional_service),
}


@dataclass(frozen=True)
class RequestFilter:
    """What a request must be to be listed (besides being addressed to the caller and its person visible)."""

    statuses: frozenset[RequestStatus] | None
    """None: any state; empty: nothing can match."""
    type: RequestType | None = None
    with_medical_information: bool | None = None
    with_medical_advice: bool | None = None

    @property
    def matches_nothing(self) -> bool:
        return self.statuses is not None and not self.statuses


@dataclass(frozen=True)
class FormFilter:
    """What a registration form must be to be listed (besides being addressed to the caller, readable by it, and
    its person visible)."""

    statuses: frozenset[FormStatus] | None
    """None: any state; empty: nothing can match."""
    routing: Routing | None = None
    conflicting: bool = False
    """The caller's ``routing`` is not the queue's: nothing can match."""

    @property
    def matches_nothing(self) -> bool:
        return self.conflicting or (self.statuses is not None and not self.statuses)


S = TypeVar("S", RequestStatus, FormStatus)


def _narrowed(given: Iterable[S] | None, queue_statuses: frozenset[S] | None) -> frozenset[S] | None:
    """The states both the caller's ``status`` filter and the queue allow (None: no limit from either)."""
    if given is None:
        return queue_statuses
    asked = frozenset(given)
    return asked if queue_statuses is None else asked & queue_statuses


def request_filter(
    statuses: Iterable[RequestStatus] | None, request_type: RequestType | None, queue: RequestQueue | None
) -> RequestFilter:
    rule = REQUEST_QUEUES[queue] if queue is not None else None
    return RequestFilter(
        statuses=_narrowed(statuses, rule.statuses if rule else None),
        type=request_type,
        with_medical_information=rule.with_medical_information if rule else None,
        with_medical_advice=rule.with_medical_advice if rule else None,
    )


def form_filter(statuses: Iterable[FormStatus] | None, routing: Routing | None, queue: FormQueue | None) -> FormFilter:
    rule = FORM_QUEUES[queue] if queue is not None else None
    queue_routing = rule.routing if rule else None
    conflicting = routing is not None and queue_routing is not None and routing is not queue_routing
    return FormFilter(
        statuses=_narrowed(statuses, rule.statuses if rule else None),
        routing=routing or queue_routing,
        conflicting=conflicting,
    )


def may_ask_requests(queue: RequestQueue, organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    return REQUEST_QUEUES[queue].may_ask(organisation_type, roles)


def may_ask_forms(queue: FormQueue, organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    return FORM_QUEUES[queue].may_ask(organisation_type, roles)


def readable_form_statuses(organisation_type: OrganisationType) -> frozenset[FormStatus]:
    """The states in which an organisation of this type reads a form it did not create (its creator reads it in
    every state): :func:`rp_api.domain.forms.may_read`, as a set a query can filter on."""
    return frozenset(
        status for status in FormStatus if forms.may_read(status, organisation_type=organisation_type, is_creator=False)
    )


def created_between(created_from: date | None, created_to: date | None) -> tuple[datetime | None, datetime | None]:
    """``createdFrom``/``createdTo`` (calendar days in UTC, both included) as the bounds ``[start, end)`` of a
    creation time."""
    start = datetime.combine(created_from, time.min, tzinfo=UTC) if created_from is not None else None
    end = datetime.combine(created_to + timedelta(days=1), time.min, tzinfo=UTC) if created_to is not None else None
    return start, end


def dates_in_order(created_from: date | None, created_to: date | None) -> bool:
    return created_from is None or created_to is None or created_from <= created_to


LINE_OMITS_REQUEST = frozenset({"medical_information", "medical_advice", "extensions"})
"""Fields of a request's view that a work-list line never carries (health data; the request itself shows them to
those who may see them), nor the requests that extend it (the request itself lists them; a line says which request
it extends)."""
LINE_OMITS_FORM = frozenset({"incapacity_start_date"})
"""Fields of a form's view that a work-list line never carries; of the physician's question, only the
expectations are kept (:data:`LINE_FORM_QUESTION_KEEPS`)."""
LINE_FORM_QUESTION_KEEPS = frozenset({"expectations"})
"""Of the physician's question, what a line keeps (its functional capacities are health data)."""
