"""The dossier's life as a table: every form state with and without a request on it, every request state, an
approved request with every follow-up it may have recorded (ended or not), mixes, explicit closes and new items; and
who may close. The same table is run against the repository's SQL in
tests/integration/test_dossier_life.py."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.dossiers import (
    FORM_FINISHED,
    FORM_OPEN,
    FORM_OPEN_UNTIL_REQUESTED,
    REQUEST_FINISHED,
    REQUEST_OPEN,
    REQUEST_OPEN_UNTIL_ENDED,
    DossierLife,
    DossierStatus,
    FormState,
    RequestState,
    after_change,
    form_is_open,
    may_be_closed,
    may_close,
    request_is_open,
    trajectory_status,
)
from rp_api.domain.follow_up import FollowUpEvent
from rp_api.domain.forms import FormStatus
from rp_api.domain.requests import RequestStatus

F, R, E = FormStatus, RequestStatus, FollowUpEvent
ACTIVE, CLOSED = DossierStatus.ACTIVE, DossierStatus.CLOSED


@dataclass(frozen=True)
class Case:
    """A dossier: its forms' states, its requests (state, and the index of the form it was made on, if any), the
    steps each request's follow-up recorded, whether it was closed explicitly, whether the change created a new item;
    and the status expected after it."""

    name: str
    forms: tuple[FormStatus, ...]
    requests: tuple[tuple[RequestStatus, int | None], ...]
    expected: DossierStatus
    explicitly_closed: bool = False
    new_item: bool = False
    follow_ups: tuple[tuple[FollowUpEvent, ...], ...] = ()
    """The steps recorded on each request, in order, by the request's index (none for the requests past its end)."""

    def steps_of(self, index: int) -> tuple[FollowUpEvent, ...]:
        return self.follow_ups[index] if index < len(self.follow_ups) else ()

    def form_states(self) -> list[FormState]:
        requested = {on for _, on in self.requests if on is not None}
        return [FormState(status, requested=index in requested) for index, status in enumerate(self.forms)]

    def request_states(self) -> list[RequestState]:
        return [
            RequestState(status, ended=E.ENDED in self.steps_of(index))
            for index, (status, _) in enumerate(self.requests)
        ]

    def life(self) -> DossierLife:
        return after_change(
            self.form_states(),
            self.request_states(),
            explicitly_closed=self.explicitly_closed,
            new_item=self.new_item,
        )


FORM_OPEN_WITHOUT_REQUEST = {F.DRAFT, F.AWAITING_TARGET_GROUP_DECISION, F.SUBMITTED}
FORM_OPEN_WITH_REQUEST = {F.DRAFT, F.AWAITING_TARGET_GROUP_DECISION}
REQUEST_OPEN_WITHOUT_END = {R.AWAITING_INSURER_VALIDATION, R.AT_INAMI, R.APPROVED}
REQUEST_OPEN_AFTER_END = {R.AWAITING_INSURER_VALIDATION, R.AT_INAMI}
"""Only an approved request is followed; an end its follow-up recorded finishes it."""
FOLLOW_UPS: tuple[tuple[FollowUpEvent, ...], ...] = (
    (E.STARTED,),
    (E.STARTED, E.INTERRUPTED),
    (E.STARTED, E.INTERRUPTED, E.RESUMED),
    (E.STARTED, E.ENDED),
    (E.STARTED, E.INTERRUPTED, E.ENDED),
    (E.STARTED, E.INTERRUPTED, E.RESUMED, E.ENDED),
)
"""Every follow-up an approved request may have recorded, besides none: running, interrupted, or ended."""


def _followed(steps: tuple[FollowUpEvent, ...]) -> str:
    return "followed " + ", ".join(steps)


def _single_items() -> list[Case]:
    """One form of each state, alone and with one request of each state on it; one direct request of each state; an
    approved request, on a form of each state and direct, with each follow-up it may have recorded."""
    cases = [Case(f"form {form}", (form,), (), ACTIVE if form in FORM_OPEN_WITHOUT_REQUEST else CLOSED) for form in F]
    for form, request in itertools.product(F, R):
        open_ = form in FORM_OPEN_WITH_REQUEST or request in REQUEST_OPEN_WITHOUT_END
        cases.append(
            Case(f"form {form} + request {request} on it", (form,), ((request, 0),), ACTIVE if open_ else CLOSED)
        )
    cases += [
        Case(
            f"direct request {request}",
            (),
            ((request, None),),
            ACTIVE if request in REQUEST_OPEN_WITHOUT_END else CLOSED,
        )
        for request in R
    ]
    for form, steps in itertools.product(F, FOLLOW_UPS):
        open_ = form in FORM_OPEN_WITH_REQUEST or E.ENDED not in steps
        name = f"form {form} + approved request on it, {_followed(steps)}"
        cases.append(Case(name, (form,), ((R.APPROVED, 0),), ACTIVE if open_ else CLOSED, follow_ups=(steps,)))
    cases += [
        Case(
            f"direct approved request, {_followed(steps)}",
            (),
            ((R.APPROVED, None),),
            CLOSED if E.ENDED in steps else ACTIVE,
            follow_ups=(steps,),
        )
        for steps in FOLLOW_UPS
    ]
    return cases


RAN, ENDED = (E.STARTED,), (E.STARTED, E.ENDED)


MIXES = [
    Case("just opened by a lookup: nothing yet", (), (), ACTIVE),
    Case("refused on the form, another form still valid", (F.SUBMITTED, F.SUBMITTED), ((R.REFUSED, 0),), ACTIVE),
    Case("refused on the form, the other cancelled", (F.SUBMITTED, F.CANCELLED), ((R.REFUSED, 0),), CLOSED),
    Case("withdrawn and approved on one form", (F.SUBMITTED,), ((R.WITHDRAWN, 0), (R.APPROVED, 0)), ACTIVE),
    Case("every request finished", (F.SUBMITTED,), ((R.WITHDRAWN, 0), (R.REFUSED_BY_INSURER, 0)), CLOSED),
    Case("cancelled form, direct request at INAMI", (F.CANCELLED,), ((R.AT_INAMI, None),), ACTIVE),
    Case("cancelled form, direct request refused", (F.CANCELLED,), ((R.REFUSED, None),), CLOSED),
    Case("form out of the target group, a new draft", (F.NOT_IN_TARGET_GROUP, F.DRAFT), (), ACTIVE),
    Case("a direct request does not finish a valid form", (F.SUBMITTED,), ((R.REFUSED, None),), ACTIVE),
    Case("closed explicitly, nothing in it", (), (), CLOSED, explicitly_closed=True),
    Case("closed explicitly, a draft open", (F.DRAFT,), (), CLOSED, explicitly_closed=True),
    Case("closed explicitly, a request at INAMI", (F.SUBMITTED,), ((R.AT_INAMI, 0),), CLOSED, explicitly_closed=True),
    Case("closed explicitly, everything finished", (F.CANCELLED,), (), CLOSED, explicitly_closed=True),
    Case(
        "closed explicitly, then a new form", (F.CANCELLED, F.DRAFT), (), ACTIVE, explicitly_closed=True, new_item=True
    ),
    Case(
        "closed explicitly, then a new request",
        (F.SUBMITTED,),
        ((R.REFUSED, 0), (R.AT_INAMI, 0)),
        ACTIVE,
        explicitly_closed=True,
        new_item=True,
    ),
    Case(
        "a new item lifts the close, the items decide",
        (F.CANCELLED,),
        ((R.WITHDRAWN, None),),
        CLOSED,
        explicitly_closed=True,
        new_item=True,
    ),
    Case("a new draft in an ended trajectory", (F.SUBMITTED, F.DRAFT), ((R.REFUSED, 0),), ACTIVE, new_item=True),
    Case(
        "one trajectory ended, another runs",
        (F.SUBMITTED,),
        ((R.APPROVED, 0), (R.APPROVED, None)),
        ACTIVE,
        follow_ups=(ENDED, RAN),
    ),
    Case(
        "both trajectories ended",
        (F.SUBMITTED,),
        ((R.APPROVED, 0), (R.APPROVED, None)),
        CLOSED,
        follow_ups=(ENDED,) * 2,
    ),
    Case(
        "trajectory ended, another valid form waits for its request",
        (F.SUBMITTED, F.SUBMITTED),
        ((R.APPROVED, 0),),
        ACTIVE,
        follow_ups=(ENDED,),
    ),
    Case(
        "trajectory ended, its extension at INAMI",
        (F.SUBMITTED,),
        ((R.APPROVED, 0), (R.AT_INAMI, 0)),
        ACTIVE,
        follow_ups=(ENDED,),
    ),
    Case(
        "trajectory ended, the other request refused",
        (F.CANCELLED,),
        ((R.REFUSED, None), (R.APPROVED, None)),
        CLOSED,
        follow_ups=((), ENDED),
    ),
    Case(
        "closed explicitly while its trajectory runs",
        (F.SUBMITTED,),
        ((R.APPROVED, 0),),
        CLOSED,
        explicitly_closed=True,
        follow_ups=(RAN,),
    ),
    Case(
        "trajectory ended, a new request reopens",
        (F.SUBMITTED,),
        ((R.APPROVED, 0), (R.AWAITING_INSURER_VALIDATION, 0)),
        ACTIVE,
        new_item=True,
        follow_ups=(ENDED,),
    ),
    Case(
        "trajectory ended after an explicit close, a new request reopens",
        (),
        ((R.APPROVED, None), (R.AT_INAMI, None)),
        ACTIVE,
        explicitly_closed=True,
        new_item=True,
        follow_ups=(ENDED,),
    ),
]
TABLE = _single_items() + MIXES
"""Every case, also run against the SQL of the repository (tests/integration/test_dossier_life.py)."""


@pytest.mark.parametrize("case", TABLE, ids=lambda case: case.name)
def test_the_dossier_life_table(case: Case) -> None:
    life = case.life()
    assert life.status is case.expected
    assert life.explicitly_closed is (case.explicitly_closed and not case.new_item)


@pytest.mark.parametrize(("status", "requested"), list(itertools.product(F, [False, True])))
def test_every_form_state_is_open_or_finished(status: FormStatus, requested: bool) -> None:
    expected = status in (FORM_OPEN_WITH_REQUEST if requested else FORM_OPEN_WITHOUT_REQUEST)
    assert form_is_open(FormState(status, requested=requested)) is expected


@pytest.mark.parametrize(("status", "ended"), list(itertools.product(R, [False, True])))
def test_every_request_state_is_open_or_finished(status: RequestStatus, ended: bool) -> None:
    expected = status in (REQUEST_OPEN_AFTER_END if ended else REQUEST_OPEN_WITHOUT_END)
    assert request_is_open(RequestState(status, ended=ended)) is expected


def test_the_state_sets_cover_every_state_once() -> None:
    assert set(F) == FORM_OPEN | FORM_OPEN_UNTIL_REQUESTED | FORM_FINISHED
    assert len(FORM_OPEN) + len(FORM_OPEN_UNTIL_REQUESTED) + len(FORM_FINISHED) == len(F)
    assert set(R) == REQUEST_OPEN | REQUEST_OPEN_UNTIL_ENDED | REQUEST_FINISHED
    assert len(REQUEST_OPEN) + len(REQUEST_OPEN_UNTIL_ENDED) + len(REQUEST_FINISHED) == len(R)


def test_the_items_alone() -> None:
    assert trajectory_status([], []) is ACTIVE
    assert trajectory_status([FormState(F.CANCELLED, requested=False)], []) is CLOSED
    assert trajectory_status([], [RequestState(R.APPROVED, ended=False)]) is ACTIVE
    assert trajectory_status([], [RequestState(R.APPROVED, ended=True)]) is CLOSED


CLOSERS = {
    (OrganisationType.INSURER, Role.MEDICAL_ADVISOR),
    (OrganisationType.INSURER, Role.RETURN_TO_WORK_COORDINATOR),
    (OrganisationType.INAMI, Role.SOCIAL_EXPERT),
}
EVERY_ACTOR = [(t, r) for t, roles in ROLES_BY_TYPE.items() for r in sorted(roles)]


@pytest.mark.parametrize("actor", EVERY_ACTOR, ids=lambda actor: f"{actor[0]}-{actor[1]}")
def test_who_may_close(actor: tuple[OrganisationType, Role]) -> None:
    organisation_type, role = actor
    assert may_close(organisation_type, frozenset({role})) is (actor in CLOSERS)


def test_a_closer_role_among_others_may_close() -> None:
    roles = frozenset({Role.ADMINISTRATIVE, Role.MEDICAL_ADVISOR})
    assert may_close(OrganisationType.INSURER, roles)
    assert not may_close(OrganisationType.PREVENTION_SERVICE, frozenset({Role.OCCUPATIONAL_PHYSICIAN}))


def test_only_an_active_dossier_is_closed() -> None:
    assert may_be_closed(ACTIVE)
    assert not may_be_closed(CLOSED)
