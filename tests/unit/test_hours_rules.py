"""Who reports hours (the party that runs the training, 404 before 403 before 409) and how an hours list's months
are chosen (one month or a period, exactly one way), as tables."""

from __future__ import annotations

import pytest

from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.hours import (
    MAX_PERIOD_MONTHS,
    ONE_WAY,
    Flaw,
    Item,
    Refusal,
    batch_refusal,
    month_number,
    period,
    refusal,
)
from rp_api.domain.requests import RequestStatus

T, R, S = OrganisationType, Role, RequestStatus
RUNS = Item(visible=True, is_requester=True, status=S.APPROVED, training_known=True)
"""An item of an approved request the caller asked for, naming one of its trainings."""

CASES: list[tuple[str, OrganisationType, frozenset[Role], Item, Refusal | None]] = [
    # the party that runs the training: its requester, in a role that may ask
    ("regional advisor, its training", T.REGIONAL_SERVICE, frozenset({R.REFERENCE_ADVISOR}), RUNS, None),
    ("insurer coordinator, its own", T.INSURER, frozenset({R.RETURN_TO_WORK_COORDINATOR}), RUNS, None),
    ("insurer médecin-conseil, its own", T.INSURER, frozenset({R.MEDICAL_ADVISOR}), RUNS, None),
    (
        "advisor who also manages lists",
        T.REGIONAL_SERVICE,
        frozenset({R.REFERENCE_ADVISOR, R.LIST_MANAGER}),
        RUNS,
        None,
    ),
    # sees the request, does not run it: 403
    (
        "insurer on a regional training",
        T.INSURER,
        frozenset({R.RETURN_TO_WORK_COORDINATOR}),
        Item(True, False, S.APPROVED, True),
        Refusal.NOT_RUNNER,
    ),
    (
        "regional service on an insurer's training",
        T.REGIONAL_SERVICE,
        frozenset({R.REFERENCE_ADVISOR}),
        Item(True, False, S.APPROVED, True),
        Refusal.NOT_RUNNER,
    ),
    ("regional list manager", T.REGIONAL_SERVICE, frozenset({R.LIST_MANAGER}), RUNS, Refusal.NOT_RUNNER),
    ("insurer's administrative", T.INSURER, frozenset({R.ADMINISTRATIVE}), RUNS, Refusal.NOT_RUNNER),
    (
        "INAMI social expert",
        T.INAMI,
        frozenset({R.SOCIAL_EXPERT}),
        Item(True, False, S.APPROVED, True),
        Refusal.NOT_RUNNER,
    ),
    (
        "prevention service's physician, its own form",
        T.PREVENTION_SERVICE,
        frozenset({R.OCCUPATIONAL_PHYSICIAN}),
        Item(True, False, S.APPROVED, True),
        Refusal.NOT_RUNNER,
    ),
    # may not see it: 404 before everything else
    (
        "another regional service",
        T.REGIONAL_SERVICE,
        frozenset({R.REFERENCE_ADVISOR}),
        Item(False, False, S.APPROVED, True),
        Refusal.UNKNOWN_REQUEST,
    ),
    (
        "unlinked prevention service",
        T.PREVENTION_SERVICE,
        frozenset({R.OCCUPATIONAL_PHYSICIAN}),
        Item(False, False, S.APPROVED, False),
        Refusal.UNKNOWN_REQUEST,
    ),
    (
        "no such request",
        T.REGIONAL_SERVICE,
        frozenset({R.REFERENCE_ADVISOR}),
        Item(False, False, None, False),
        Refusal.UNKNOWN_REQUEST,
    ),
    (
        "its requester no longer linked",
        T.REGIONAL_SERVICE,
        frozenset({R.REFERENCE_ADVISOR}),
        Item(False, True, S.APPROVED, True),
        Refusal.UNKNOWN_REQUEST,
    ),
    # runs it, but the state or the training refuses: 409 (and 403 before 409)
    *[
        (
            f"runner, request {status}",
            T.REGIONAL_SERVICE,
            frozenset({R.REFERENCE_ADVISOR}),
            Item(True, True, status, True),
            Refusal.NOT_APPROVED,
        )
        for status in RequestStatus
        if status is not S.APPROVED
    ],
    (
        "runner, unknown training",
        T.INSURER,
        frozenset({R.MEDICAL_ADVISOR}),
        Item(True, True, S.APPROVED, False),
        Refusal.UNKNOWN_TRAINING,
    ),
    (
        "not runner and not approved",
        T.INSURER,
        frozenset({R.RETURN_TO_WORK_COORDINATOR}),
        Item(True, False, S.AT_INAMI, False),
        Refusal.NOT_RUNNER,
    ),
    (
        "not approved and unknown training",
        T.REGIONAL_SERVICE,
        frozenset({R.REFERENCE_ADVISOR}),
        Item(True, True, S.AT_INAMI, False),
        Refusal.NOT_APPROVED,
    ),
]


@pytest.mark.parametrize(("case", "organisation_type", "roles", "item", "expected"), CASES, ids=[c[0] for c in CASES])
def test_who_may_report_an_item(
    case: str, organisation_type: OrganisationType, roles: frozenset[Role], item: Item, expected: Refusal | None
) -> None:
    assert refusal(item, organisation_type, roles) is expected


@pytest.mark.parametrize("organisation_type", list(OrganisationType))
def test_only_a_requester_role_runs_a_training(organisation_type: OrganisationType) -> None:
    """Every role of every organisation type, on a request its organisation asked for: only the roles that may ask
    report; nobody reports on a request another organisation asked for."""
    runners = {
        (T.REGIONAL_SERVICE, R.REFERENCE_ADVISOR),
        (T.INSURER, R.MEDICAL_ADVISOR),
        (T.INSURER, R.RETURN_TO_WORK_COORDINATOR),
    }
    for role in ROLES_BY_TYPE[organisation_type]:
        own = refusal(RUNS, organisation_type, frozenset({role}))
        assert (own is None) == ((organisation_type, role) in runners), role
        other = Item(visible=True, is_requester=False, status=S.APPROVED, training_known=True)
        assert refusal(other, organisation_type, frozenset({role})) is Refusal.NOT_RUNNER, role


@pytest.mark.parametrize(
    ("refusals", "expected"),
    [
        ([None, None], None),
        ([None, Refusal.UNKNOWN_TRAINING], Refusal.UNKNOWN_TRAINING),
        ([Refusal.UNKNOWN_TRAINING, Refusal.NOT_APPROVED], Refusal.NOT_APPROVED),
        ([Refusal.NOT_APPROVED, Refusal.NOT_RUNNER, None], Refusal.NOT_RUNNER),
        ([Refusal.NOT_RUNNER, Refusal.UNKNOWN_REQUEST], Refusal.UNKNOWN_REQUEST),
        ([None, Refusal.UNKNOWN_TRAINING, Refusal.UNKNOWN_REQUEST, Refusal.NOT_RUNNER], Refusal.UNKNOWN_REQUEST),
        ([], None),
    ],
)
def test_a_batch_answers_with_the_first_refusal_404_before_403_before_409(
    refusals: list[Refusal | None], expected: Refusal | None
) -> None:
    assert batch_refusal(refusals) is expected


TOO_LONG = [Flaw("to", f"A period is at most {MAX_PERIOD_MONTHS} months", "13 months were asked")]


def _together(*names: str) -> list[Flaw]:
    return [Flaw(name, ONE_WAY, f"{', '.join(names)} were given together") for name in names]


@pytest.mark.parametrize(
    ("month", "first", "last", "expected"),
    [
        ("2027-01", None, None, ("2027-01", "2027-01")),
        (None, "2027-01", "2027-03", ("2027-01", "2027-03")),
        (None, "2027-01", "2027-01", ("2027-01", "2027-01")),
        (None, "2026-11", "2027-10", ("2026-11", "2027-10")),  # twelve months, across a year's end
        (None, "2026-11", "2027-11", TOO_LONG),
        (None, "2027-03", "2027-01", [Flaw("to", "to is before from")]),
        (None, "2027-01", None, [Flaw("to", "A period needs both from and to", "to is missing")]),
        (None, None, "2027-01", [Flaw("from", "A period needs both from and to", "from is missing")]),
        (None, None, None, [Flaw(None, ONE_WAY, "None was given")]),
        ("2027-01", "2027-01", "2027-02", _together("month", "from", "to")),
        ("2027-01", "2027-01", None, _together("month", "from")),
        ("2027-01", None, "2027-02", _together("month", "to")),
    ],
)  # fmt: skip
def test_an_hours_list_is_one_month_or_one_period(
    month: str | None, first: str | None, last: str | None, expected: tuple[str, str] | list[Flaw]
) -> None:
    assert period(month, first, last) == expected


def test_months_are_counted_across_years() -> None:
    assert month_number("2027-01") - month_number("2026-12") == 1
    assert month_number("2027-12") - month_number("2027-01") == 11
