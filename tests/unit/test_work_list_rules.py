"""Work lists: each queue's states and conditions, who may ask for it, how filters combine, which forms another
organisation reads, and that a line can carry no health field."""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from rp_api.authz.person_guard import PersonGuard
from rp_api.clients.base import UpstreamBadResponse, UpstreamUnavailable
from rp_api.clients.national_register import RegisteredPerson
from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.forms import FormStatus, Routing
from rp_api.domain.requests import RequestStatus, RequestType
from rp_api.domain.visibility import HEALTH_FIELDS
from rp_api.domain.work_lists import (
    FORM_QUEUES,
    LINE_FORM_QUESTION_KEEPS,
    LINE_OMITS_FORM,
    LINE_OMITS_REQUEST,
    REQUEST_QUEUES,
    FormFilter,
    FormQueue,
    RequestFilter,
    RequestQueue,
    created_between,
    dates_in_order,
    form_filter,
    may_ask_forms,
    may_ask_requests,
    readable_form_statuses,
    request_filter,
)
from rp_api.schemas.registration_form import PhysicianQuestion, RegistrationFormOut
from rp_api.schemas.request import RequestOut
from rp_api.schemas.work_list import FormLine, PhysicianQuestionLine, RequestLine, WorkListPerson
from rp_api.services.work_lists import persons_of

T, R, S, F = OrganisationType, Role, RequestStatus, FormStatus
EVERY_CALLER = [(kind, role) for kind, roles in ROLES_BY_TYPE.items() for role in sorted(roles)]

REQUEST_QUEUE_STATES = {
    RequestQueue.AWAITING_INSURER_VALIDATION: ({S.AWAITING_INSURER_VALIDATION}, None, None),
    RequestQueue.AT_INAMI: ({S.AT_INAMI}, None, None),
    RequestQueue.AWAITING_MEDICAL_ADVICE: ({S.AT_INAMI}, True, False),
}
"""Queue → (states, with medical information, with medical advice)."""
ASK_REQUEST_QUEUE = {
    RequestQueue.AWAITING_INSURER_VALIDATION: set(EVERY_CALLER),
    RequestQueue.AT_INAMI: set(EVERY_CALLER),
    # Knowing that medical information exists: those who may read it (insurer physicians, INAMI's inspector).
    RequestQueue.AWAITING_MEDICAL_ADVICE: {
        (T.INSURER, R.MEDICAL_ADVISOR),
        (T.INSURER, R.MULTIDISCIPLINARY_TEAM),
        (T.INAMI, R.MEDICAL_INSPECTOR),
    },
}
FORM_QUEUE_STATES = {
    FormQueue.AWAITING_TARGET_GROUP_DECISION: ({F.AWAITING_TARGET_GROUP_DECISION}, Routing.ROUTING_C),
    FormQueue.REGISTERED_WITH_ME: ({F.SUBMITTED}, None),
}
ASK_FORM_QUEUE = {
    FormQueue.AWAITING_TARGET_GROUP_DECISION: {
        (T.INSURER, R.MEDICAL_ADVISOR),
        (T.INSURER, R.MULTIDISCIPLINARY_TEAM),
        (T.INSURER, R.RETURN_TO_WORK_COORDINATOR),
    },
    FormQueue.REGISTERED_WITH_ME: {(T.REGIONAL_SERVICE, role) for role in ROLES_BY_TYPE[T.REGIONAL_SERVICE]},
}


@pytest.mark.parametrize("queue", list(RequestQueue))
def test_each_request_queue_holds_its_states(queue: RequestQueue) -> None:
    rule = REQUEST_QUEUES[queue]
    statuses, information, advice = REQUEST_QUEUE_STATES[queue]
    assert (rule.statuses, rule.with_medical_information, rule.with_medical_advice) == (statuses, information, advice)


@pytest.mark.parametrize("queue", list(FormQueue))
def test_each_form_queue_holds_its_states(queue: FormQueue) -> None:
    assert (FORM_QUEUES[queue].statuses, FORM_QUEUES[queue].routing) == FORM_QUEUE_STATES[queue]


@pytest.mark.parametrize(("queue", "caller"), list(itertools.product(RequestQueue, EVERY_CALLER)))
def test_who_may_ask_a_request_queue(queue: RequestQueue, caller: tuple[OrganisationType, Role]) -> None:
    kind, role = caller
    assert may_ask_requests(queue, kind, frozenset({role})) is (caller in ASK_REQUEST_QUEUE[queue])


@pytest.mark.parametrize(("queue", "caller"), list(itertools.product(FormQueue, EVERY_CALLER)))
def test_who_may_ask_a_form_queue(queue: FormQueue, caller: tuple[OrganisationType, Role]) -> None:
    kind, role = caller
    assert may_ask_forms(queue, kind, frozenset({role})) is (caller in ASK_FORM_QUEUE[queue])


def test_a_physician_role_beside_another_may_ask_for_the_medical_queue() -> None:
    both = frozenset({R.SOCIAL_EXPERT, R.MEDICAL_INSPECTOR})
    assert may_ask_requests(RequestQueue.AWAITING_MEDICAL_ADVICE, T.INAMI, both)
    assert not may_ask_requests(RequestQueue.AWAITING_MEDICAL_ADVICE, T.INAMI, frozenset({R.SOCIAL_EXPERT}))


@pytest.mark.parametrize(
    ("statuses", "request_type", "queue", "expected"),
    [
        (None, None, None, RequestFilter(None)),
        (
            [S.APPROVED, S.REFUSED],
            RequestType.TRAINING,
            None,
            RequestFilter(frozenset({S.APPROVED, S.REFUSED}), RequestType.TRAINING),
        ),
        (None, None, RequestQueue.AT_INAMI, RequestFilter(frozenset({S.AT_INAMI}))),
        ([S.AT_INAMI, S.APPROVED], None, RequestQueue.AT_INAMI, RequestFilter(frozenset({S.AT_INAMI}))),
        ([S.APPROVED], None, RequestQueue.AT_INAMI, RequestFilter(frozenset())),  # nothing is both
        (
            None,
            RequestType.COACHING,
            RequestQueue.AWAITING_MEDICAL_ADVICE,
            RequestFilter(frozenset({S.AT_INAMI}), RequestType.COACHING, True, False),
        ),
    ],
)
def test_request_filters_combine(
    statuses: list[RequestStatus] | None,
    request_type: RequestType | None,
    queue: RequestQueue | None,
    expected: RequestFilter,
) -> None:
    combined = request_filter(statuses, request_type, queue)
    assert combined == expected
    assert combined.matches_nothing is (expected.statuses == frozenset())


@pytest.mark.parametrize(
    ("statuses", "routing", "queue", "expected", "nothing"),
    [
        (None, None, None, FormFilter(None), False),
        ([F.DRAFT], Routing.STANDARD, None, FormFilter(frozenset({F.DRAFT}), Routing.STANDARD), False),
        (
            None,
            None,
            FormQueue.AWAITING_TARGET_GROUP_DECISION,
            FormFilter(frozenset({F.AWAITING_TARGET_GROUP_DECISION}), Routing.ROUTING_C),
            False,
        ),
        (
            None,
            Routing.ROUTING_C,
            FormQueue.AWAITING_TARGET_GROUP_DECISION,
            FormFilter(frozenset({F.AWAITING_TARGET_GROUP_DECISION}), Routing.ROUTING_C),
            False,
        ),
        (  # routing C forms only wait for that decision: a standard one never does
            None,
            Routing.STANDARD,
            FormQueue.AWAITING_TARGET_GROUP_DECISION,
            FormFilter(frozenset({F.AWAITING_TARGET_GROUP_DECISION}), Routing.STANDARD, conflicting=True),
            True,
        ),
        (
            None,
            Routing.ROUTING_C,
            FormQueue.REGISTERED_WITH_ME,
            FormFilter(frozenset({F.SUBMITTED}), Routing.ROUTING_C),
            False,
        ),
        ([F.CANCELLED], None, FormQueue.REGISTERED_WITH_ME, FormFilter(frozenset()), True),
    ],
)
def test_form_filters_combine(
    statuses: list[FormStatus] | None,
    routing: Routing | None,
    queue: FormQueue | None,
    expected: FormFilter,
    nothing: bool,
) -> None:
    combined = form_filter(statuses, routing, queue)
    assert combined == expected
    assert combined.matches_nothing is nothing


@pytest.mark.parametrize(
    ("kind", "readable"),
    [
        (T.INSURER, set(F) - {F.DRAFT}),
        (T.PREVENTION_SERVICE, set(F) - {F.DRAFT}),
        (T.INAMI, set(F) - {F.DRAFT}),
        (T.REGIONAL_SERVICE, {F.SUBMITTED}),  # a regional service reads valid forms only (and its own)
    ],
)
def test_forms_another_organisation_reads(kind: OrganisationType, readable: set[FormStatus]) -> None:
    assert readable_form_statuses(kind) == readable


@pytest.mark.parametrize(
    ("created_from", "created_to", "bounds", "ordered"),
    [
        (None, None, (None, None), True),
        (date(2026, 11, 1), None, (datetime(2026, 11, 1, tzinfo=UTC), None), True),
        (None, date(2026, 11, 30), (None, datetime(2026, 12, 1, tzinfo=UTC)), True),
        (
            date(2026, 12, 31),
            date(2026, 12, 31),
            (datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
            True,
        ),
        (
            date(2026, 11, 2),
            date(2026, 11, 1),
            (datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)),
            False,
        ),
    ],
)
def test_creation_days_are_whole_utc_days(
    created_from: date | None,
    created_to: date | None,
    bounds: tuple[datetime | None, datetime | None],
    ordered: bool,
) -> None:
    assert created_between(created_from, created_to) == bounds
    assert dates_in_order(created_from, created_to) is ordered


# A line is the item's view without health data: every health field of the visibility table is left out.
LINE_FIELD_OF_HEALTH = {
    "request.medicalInformation": (RequestLine, "medical_information"),
    "request.medicalAdvice": (RequestLine, "medical_advice"),
    "form.incapacityStartDate": (FormLine, "incapacity_start_date"),
    "form.physicianQuestion.functionalCapacities": (PhysicianQuestionLine, "functional_capacities"),
}


def test_every_health_field_is_known_to_the_lines() -> None:
    assert set(LINE_FIELD_OF_HEALTH) == HEALTH_FIELDS


@pytest.mark.parametrize("health_field", sorted(LINE_FIELD_OF_HEALTH))
def test_no_line_has_a_health_field(health_field: str) -> None:
    line, name = LINE_FIELD_OF_HEALTH[health_field]
    assert name not in line.model_fields


def test_a_line_is_the_items_view_less_what_it_omits_plus_the_person() -> None:
    """A field added to a view reaches the lines (or is omitted on purpose): the two cannot drift apart."""
    assert set(RequestLine.model_fields) == set(RequestOut.model_fields) - LINE_OMITS_REQUEST | {"person"}
    assert set(FormLine.model_fields) == set(RegistrationFormOut.model_fields) - LINE_OMITS_FORM | {"person"}
    assert set(PhysicianQuestionLine.model_fields) == LINE_FORM_QUESTION_KEEPS
    assert set(PhysicianQuestion.model_fields) > LINE_FORM_QUESTION_KEEPS


# The person's name on a line: the access was decided already, so a register that fails here only leaves it out.
class _Resolver:
    def __init__(self, failure: Exception | None) -> None:
        self.failure = failure

    async def person(self, ssin: str, *, trace_id: str | None, legal_context: str) -> RegisteredPerson | None:
        if self.failure is not None:
            raise self.failure
        return RegisteredPerson(ssin=ssin, given_name="An", family_name="Peeters", birth_date=date(1980, 1, 1))


def _guard(failure: Exception | None) -> Any:
    guard = SimpleNamespace(resolver=_Resolver(failure), trace_id="trace", legal_context="test")
    guard.registered = functools.partial(PersonGuard.registered, guard)  # the guard's own method, on a stand-in
    return guard


@pytest.mark.parametrize(
    "failure", [None, UpstreamUnavailable("nationalRegister", "timeout"), UpstreamBadResponse("nationalRegister", "x")]
)
async def test_a_name_the_register_cannot_give_is_left_out(failure: Exception | None) -> None:
    found = await persons_of(_guard(failure), ["85073003328"])
    named = {"given_name": "An", "family_name": "Peeters"} if failure is None else {}
    assert found == {"85073003328": WorkListPerson(ssin="85073003328", **named)}


async def test_any_other_failure_is_not_swallowed() -> None:
    with pytest.raises(RuntimeError):
        await persons_of(_guard(RuntimeError("a defect")), ["85073003328"])
