"""The follow-up of a decided trajectory: the full transition table, the input rules, the dates, and who records."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.follow_up import (
    PERIOD_MARGIN,
    FollowUpEvent,
    InterruptionReason,
    Refusal,
    Step,
    TrajectoryResult,
    TrajectoryState,
    in_future,
    input_issues,
    next_state,
    refusal,
    state_after,
    within_period,
)
from rp_api.domain.requests import RequestStatus, runs_trajectory

E, S = FollowUpEvent, TrajectoryState
EXPECTED = {
    (E.STARTED, S.NOT_STARTED): S.RUNNING,
    (E.INTERRUPTED, S.RUNNING): S.INTERRUPTED,
    (E.RESUMED, S.INTERRUPTED): S.RUNNING,
    (E.ENDED, S.RUNNING): S.ENDED,
    (E.ENDED, S.INTERRUPTED): S.ENDED,
}


@pytest.mark.parametrize(("event", "state"), list(itertools.product(FollowUpEvent, TrajectoryState)))
def test_full_transition_table(event: FollowUpEvent, state: TrajectoryState) -> None:
    assert next_state(event, state) == EXPECTED.get((event, state))


def test_nothing_follows_an_end() -> None:
    assert all(next_state(event, S.ENDED) is None for event in FollowUpEvent)


@pytest.mark.parametrize(
    ("events", "state"),
    [
        ([], S.NOT_STARTED),
        ([E.STARTED], S.RUNNING),
        ([E.STARTED, E.INTERRUPTED], S.INTERRUPTED),
        ([E.STARTED, E.INTERRUPTED, E.RESUMED], S.RUNNING),
        ([E.STARTED, E.INTERRUPTED, E.RESUMED, E.INTERRUPTED], S.INTERRUPTED),
        ([E.STARTED, E.ENDED], S.ENDED),
        ([E.STARTED, E.INTERRUPTED, E.ENDED], S.ENDED),
        ([E.STARTED, E.INTERRUPTED, E.RESUMED, E.ENDED], S.ENDED),
    ],
)
def test_state_after_the_recorded_steps(events: list[FollowUpEvent], state: TrajectoryState) -> None:
    assert state_after(events) is state


R, T = InterruptionReason.FAMILY_REASONS, TrajectoryResult.WORK_RESUMED_SAME_EMPLOYER


@pytest.mark.parametrize(
    ("event", "reason", "result", "fields"),
    [
        (E.STARTED, None, None, []),
        (E.STARTED, R, None, ["reason"]),
        (E.STARTED, None, T, ["result"]),
        (E.INTERRUPTED, R, None, []),
        (E.INTERRUPTED, None, None, ["reason"]),
        (E.INTERRUPTED, R, T, ["result"]),
        (E.RESUMED, None, None, []),
        (E.RESUMED, R, T, ["reason", "result"]),
        (E.ENDED, None, T, []),
        (E.ENDED, None, None, ["result"]),
        (E.ENDED, R, T, ["reason"]),
    ],
)
def test_an_interruption_has_a_reason_and_an_end_a_result_nothing_else_has_either(
    event: FollowUpEvent,
    reason: InterruptionReason | None,
    result: TrajectoryResult | None,
    fields: list[str],
) -> None:
    assert [field for field, _ in input_issues(event, reason, result)] == fields


def test_no_reason_is_medical_and_every_code_is_a_closed_list() -> None:
    """No free text, and no code that names a health matter (a health reason is ``personalCircumstances``)."""
    codes = {*InterruptionReason, *TrajectoryResult}
    assert not any(word in code.lower() for code in codes for word in ("medic", "health", "ill", "sick", "incapac"))
    assert InterruptionReason("personalCircumstances") is InterruptionReason.PERSONAL_CIRCUMSTANCES
    with pytest.raises(ValueError, match="illness"):
        InterruptionReason("illness")


TODAY = date(2027, 2, 10)


@pytest.mark.parametrize(
    ("occurred_on", "future"),
    [(TODAY - timedelta(days=1), False), (TODAY, False), (TODAY + timedelta(days=1), True)],
)
def test_a_step_is_never_in_the_future(occurred_on: date, future: bool) -> None:
    assert in_future(occurred_on, TODAY) is future


START, END = date(2027, 1, 4), date(2027, 3, 26)


@pytest.mark.parametrize(
    ("occurred_on", "start", "end", "within"),
    [
        (START, START, END, True),
        (END, START, END, True),
        (START - PERIOD_MARGIN, START, END, True),
        (START - PERIOD_MARGIN - timedelta(days=1), START, END, False),
        (END + PERIOD_MARGIN, START, END, True),
        (END + PERIOD_MARGIN + timedelta(days=1), START, END, False),
        (date(2020, 1, 1), None, None, True),  # INAMI gave no period: no bound
        (date(2020, 1, 1), None, END, True),
        (date(2030, 1, 1), START, None, True),
        (date(2030, 1, 1), None, END, False),
    ],
)
def test_within_the_approved_period_give_or_take_the_margin(
    occurred_on: date, start: date | None, end: date | None, within: bool
) -> None:
    assert within_period(occurred_on, start, end) is within


def steps(*pairs: tuple[FollowUpEvent, date]) -> list[Step]:
    return [Step(event, on) for event, on in pairs]


D1, D2, D3 = date(2027, 1, 4), date(2027, 2, 1), date(2027, 2, 8)
PAUSED = steps((E.STARTED, D1), (E.INTERRUPTED, D2))


@pytest.mark.parametrize(
    ("status", "event", "occurred_on", "history", "expected"),
    [
        # only an approved request has a trajectory
        *[
            (status, E.STARTED, D1, [], Refusal.NOT_APPROVED)
            for status in RequestStatus
            if status is not RequestStatus.APPROVED
        ],
        (RequestStatus.APPROVED, E.STARTED, D1, [], None),
        # the sequence
        (RequestStatus.APPROVED, E.INTERRUPTED, D1, [], Refusal.WRONG_SEQUENCE),
        (RequestStatus.APPROVED, E.RESUMED, D1, [], Refusal.WRONG_SEQUENCE),
        (RequestStatus.APPROVED, E.ENDED, D1, [], Refusal.WRONG_SEQUENCE),
        (RequestStatus.APPROVED, E.STARTED, D2, steps((E.STARTED, D1)), Refusal.WRONG_SEQUENCE),
        (RequestStatus.APPROVED, E.RESUMED, D2, steps((E.STARTED, D1)), Refusal.WRONG_SEQUENCE),
        (RequestStatus.APPROVED, E.INTERRUPTED, D2, steps((E.STARTED, D1)), None),
        (RequestStatus.APPROVED, E.ENDED, D2, steps((E.STARTED, D1)), None),
        (RequestStatus.APPROVED, E.INTERRUPTED, D3, PAUSED, Refusal.WRONG_SEQUENCE),
        (RequestStatus.APPROVED, E.RESUMED, D3, PAUSED, None),
        (RequestStatus.APPROVED, E.ENDED, D3, PAUSED, None),
        (RequestStatus.APPROVED, E.STARTED, D3, steps((E.STARTED, D1), (E.ENDED, D2)), Refusal.WRONG_SEQUENCE),
        (RequestStatus.APPROVED, E.RESUMED, D3, steps((E.STARTED, D1), (E.ENDED, D2)), Refusal.WRONG_SEQUENCE),
        (RequestStatus.APPROVED, E.ENDED, D3, steps((E.STARTED, D1), (E.ENDED, D2)), Refusal.WRONG_SEQUENCE),
        # the dates: not before the previous step (the same day is allowed), within the period
        (RequestStatus.APPROVED, E.INTERRUPTED, D1 - timedelta(days=1), steps((E.STARTED, D1)),
         Refusal.BEFORE_PREVIOUS_STEP),
        (RequestStatus.APPROVED, E.INTERRUPTED, D1, steps((E.STARTED, D1)), None),
        (RequestStatus.APPROVED, E.RESUMED, D2, PAUSED, None),
        (RequestStatus.APPROVED, E.STARTED, START - PERIOD_MARGIN - timedelta(days=1), [], Refusal.OUTSIDE_PERIOD),
        (RequestStatus.APPROVED, E.ENDED, END + PERIOD_MARGIN + timedelta(days=1), steps((E.STARTED, D1)),
         Refusal.OUTSIDE_PERIOD),
        # the state is checked before the dates
        (RequestStatus.REFUSED, E.STARTED, date(2000, 1, 1), [], Refusal.NOT_APPROVED),
        (RequestStatus.APPROVED, E.STARTED, D1 - timedelta(days=1), steps((E.STARTED, D1)), Refusal.WRONG_SEQUENCE),
    ],
)  # fmt: skip
def test_refusals(
    status: RequestStatus, event: FollowUpEvent, occurred_on: date, history: list[Step], expected: Refusal | None
) -> None:
    assert refusal(status, event, occurred_on, history=history, period_start=START, period_end=END) == expected


RUNNERS = {
    (OrganisationType.REGIONAL_SERVICE, Role.REFERENCE_ADVISOR),
    (OrganisationType.INSURER, Role.MEDICAL_ADVISOR),
    (OrganisationType.INSURER, Role.RETURN_TO_WORK_COORDINATOR),
}
"""Who records the follow-up of a request it asked for: the roles that may ask. Nobody records another's."""
EVERY_ACTOR = [(t, r) for t, roles in ROLES_BY_TYPE.items() for r in sorted(roles)]


@pytest.mark.parametrize(("actor", "is_requester"), list(itertools.product(EVERY_ACTOR, [True, False])))
def test_who_records_the_party_that_runs_the_trajectory(
    actor: tuple[OrganisationType, Role], is_requester: bool
) -> None:
    organisation_type, role = actor
    expected = is_requester and actor in RUNNERS
    assert runs_trajectory(organisation_type, frozenset({role}), is_requester=is_requester) is expected
