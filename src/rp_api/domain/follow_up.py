"""The follow-up of a decided trajectory (suivi du trajet, deliberation 26/060 §48). Pure rules.

Once INAMI approved a request, the party that runs the trajectory — its requester, in a role that may ask
(:func:`rp_api.domain.requests.runs_trajectory`): the regional service for the trainings it asked for on a
registration form, the insurer for those it asked for without one — records how it goes, one step at a time:

- ``started`` on a date, first;
- ``interrupted`` on a date, only while it runs, with a coded **non-medical** reason;
- ``resumed`` on a date, only after an interruption;
- ``ended`` on a date, while it runs or is interrupted, with its result; nothing follows an end.

Every value is a code: no free text anywhere, so that no health data can slip into a step (a step is shown to every
party of the request and listed in the follow-up lists, which carry no health data). An interruption for health
reasons is recorded as ``personalCircumstances``, which does not tell health from any other personal matter.

Dates (the documented choice): a step's date is not in the future (the date in Belgium), not before the previous
step's date (the same day is allowed: interrupted and resumed on one day), and within the period INAMI approved,
give or take :data:`PERIOD_MARGIN` (a provider's schedule moves by a few weeks; a trajectory that runs on past that is
another one: an extension is a new request).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from rp_api.domain.requests import RequestStatus


class FollowUpEvent(StrEnum):
    """A step of a trajectory as its runner records it."""

    STARTED = "started"
    """The training or coaching path started (début du trajet)."""
    INTERRUPTED = "interrupted"
    """It stopped for a while (interruption), with an :class:`InterruptionReason`."""
    RESUMED = "resumed"
    """It goes on after an interruption (reprise)."""
    ENDED = "ended"
    """It ended (fin du trajet), with a :class:`TrajectoryResult`; nothing follows."""


class InterruptionReason(StrEnum):
    """Why a trajectory was interrupted: coded, never medical (a health reason is ``personalCircumstances``)."""

    PERSONAL_CIRCUMSTANCES = "personalCircumstances"
    """The person's own circumstances, whatever they are (health included, never said)."""
    FAMILY_REASONS = "familyReasons"
    """Care of a child or a relative, a family event."""
    TRAINING_CANCELLED_BY_PROVIDER = "trainingCancelledByProvider"
    """The provider cancelled or postponed the training."""
    TRAINING_PROVIDER_UNAVAILABLE = "trainingProviderUnavailable"
    """The provider cannot hold it for now (closure, no trainer, too few participants)."""
    WORK_RESUMED_DURING_TRAINING = "workResumedDuringTraining"
    """The person went back to work while the trajectory ran."""
    OTHER = "other"
    """Any other reason (not described: there is no free text)."""


class TrajectoryResult(StrEnum):
    """What came of a trajectory when it ended (résultat du trajet)."""

    WORK_RESUMED_SAME_EMPLOYER = "workResumedSameEmployer"
    WORK_RESUMED_OTHER_EMPLOYER = "workResumedOtherEmployer"
    WORK_RESUMED_SELF_EMPLOYED = "workResumedSelfEmployed"
    TRAINING_CONTINUED = "trainingContinued"
    """The person goes on with another training or path."""
    NO_RESULT = "noResult"
    """Ended without work or further training (abandoned, stopped early, or finished without a result)."""


class TrajectoryState(StrEnum):
    """Where a trajectory stands after its recorded steps."""

    NOT_STARTED = "notStarted"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    ENDED = "ended"


TRANSITIONS: dict[tuple[FollowUpEvent, TrajectoryState], TrajectoryState] = {
    (FollowUpEvent.STARTED, TrajectoryState.NOT_STARTED): TrajectoryState.RUNNING,
    (FollowUpEvent.INTERRUPTED, TrajectoryState.RUNNING): TrajectoryState.INTERRUPTED,
    (FollowUpEvent.RESUMED, TrajectoryState.INTERRUPTED): TrajectoryState.RUNNING,
    (FollowUpEvent.ENDED, TrajectoryState.RUNNING): TrajectoryState.ENDED,
    (FollowUpEvent.ENDED, TrajectoryState.INTERRUPTED): TrajectoryState.ENDED,
}
"""Every step allowed in every state; any other is refused (409)."""

PERIOD_MARGIN = timedelta(days=31)
"""How far before the approved period's start and after its end a step may be dated."""

FOLLOWED_STATUS = RequestStatus.APPROVED
"""Only an approved request has a trajectory to follow."""


@dataclass(frozen=True)
class Step:
    """A recorded step: what the rules need to know of it."""

    event: FollowUpEvent
    occurred_on: date


class Refusal(StrEnum):
    """Why a step cannot be recorded on this request now (409)."""

    NOT_APPROVED = "notApproved"
    """The request is not approved (not decided yet, refused, withdrawn…)."""
    WRONG_SEQUENCE = "wrongSequence"
    """The step does not follow from the trajectory's state (see :data:`TRANSITIONS`)."""
    BEFORE_PREVIOUS_STEP = "beforePreviousStep"
    """Dated before the previous step."""
    OUTSIDE_PERIOD = "outsidePeriod"
    """Dated too far before or after the approved period (see :data:`PERIOD_MARGIN`)."""


def state_after(events: Iterable[FollowUpEvent]) -> TrajectoryState:
    """The state the recorded steps (in the order they were recorded) lead to; recorded steps always follow
    :data:`TRANSITIONS` (an impossible one leaves the state as it was)."""
    state = TrajectoryState.NOT_STARTED
    for event in events:
        state = TRANSITIONS.get((event, state), state)
    return state


def next_state(event: FollowUpEvent, state: TrajectoryState) -> TrajectoryState | None:
    return TRANSITIONS.get((event, state))


def input_issues(
    event: FollowUpEvent, reason: InterruptionReason | None, result: TrajectoryResult | None
) -> list[tuple[str, str]]:
    """What is wrong with a step as given, whatever the request (400): an interruption has a reason and an end a
    result, and no other step has either. Each issue: (the field, what is wrong)."""
    issues = []
    if event is FollowUpEvent.INTERRUPTED and reason is None:
        issues.append(("reason", "An interruption has a reason"))
    if event is not FollowUpEvent.INTERRUPTED and reason is not None:
        issues.append(("reason", "Only an interruption has a reason"))
    if event is FollowUpEvent.ENDED and result is None:
        issues.append(("result", "An end has a result"))
    if event is not FollowUpEvent.ENDED and result is not None:
        issues.append(("result", "Only an end has a result"))
    return issues


def in_future(occurred_on: date, today: date) -> bool:
    """A step cannot be recorded before it happened (``today``: the date in Belgium)."""
    return occurred_on > today


def within_period(occurred_on: date, period_start: date | None, period_end: date | None) -> bool:
    """Within the approved period, give or take :data:`PERIOD_MARGIN` (a bound INAMI did not give is not checked)."""
    if period_start is not None and occurred_on < period_start - PERIOD_MARGIN:
        return False
    return not (period_end is not None and occurred_on > period_end + PERIOD_MARGIN)


def refusal(
    status: RequestStatus,
    event: FollowUpEvent,
    occurred_on: date,
    *,
    history: Sequence[Step],
    period_start: date | None,
    period_end: date | None,
) -> Refusal | None:
    """Why this step cannot follow the request's recorded ``history`` (oldest first), or None when it may."""
    if status is not FOLLOWED_STATUS:
        return Refusal.NOT_APPROVED
    if next_state(event, state_after(step.event for step in history)) is None:
        return Refusal.WRONG_SEQUENCE
    if history and occurred_on < history[-1].occurred_on:
        return Refusal.BEFORE_PREVIOUS_STEP
    if not within_period(occurred_on, period_start, period_end):
        return Refusal.OUTSIDE_PERIOD
    return None
