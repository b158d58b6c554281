"""Hours performed (relevé des heures prestées, deliberation 26/060 §48). Pure rules.

**Who reports.** Hours are reported by the party that runs the training
(:func:`rp_api.domain.requests.runs_trajectory`): its requester, in a role that may ask — a regional service's
reference advisor for the trainings it asked for on a registration form, an insurer's médecin-conseil or
return-to-work coordinator for those it asked for without one. Every other caller is refused, each item of a batch
with the first refusal that applies to it, in this order (404 before 403): a request the caller may not see (none
such, its person not one the caller is linked to, or — a prevention service — one it took no part in) is unknown
(404); one it sees but does not run is 403; one it runs but that is not approved, or a training the request does not
have, is 409. A batch answers with the first of those that any of its items got, and names each such item; nothing
of it is recorded. A correction is a new version (the history is kept); the same figure again is no change.

**Which lines a list gives.** An hours list is chosen in exactly one way: one ``month``, or a period ``from`` …
``to`` (both months included, at most :data:`MAX_PERIOD_MONTHS` months).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.requests import RequestStatus, runs_trajectory

REPORTED_STATUS = RequestStatus.APPROVED
"""Hours are reported on an approved request only."""

MAX_PERIOD_MONTHS = 12
"""The longest period an hours list covers (a year: the longest a single approval usually runs); longer is a 400."""

MONTH = re.compile(r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$")
"""A month as the API writes it: ``2027-01`` (ASCII digits only: ``\\d`` would take any script's digits)."""


class Refusal(StrEnum):
    """Why an item of an hours report is refused; :data:`STATUS` gives each its HTTP status."""

    UNKNOWN_REQUEST = "unknownRequest"
    """No request the caller may see (none such, a person it is not linked to, a request it took no part in)."""
    NOT_RUNNER = "notRunner"
    """The caller sees the request but does not run its trajectory (or its role may report nothing)."""
    NOT_APPROVED = "notApproved"
    """The request is not approved (not decided yet, refused, withdrawn…)."""
    UNKNOWN_TRAINING = "unknownTraining"
    """The request has no such training."""


STATUS: dict[Refusal, int] = {
    Refusal.UNKNOWN_REQUEST: 404,
    Refusal.NOT_RUNNER: 403,
    Refusal.NOT_APPROVED: 409,
    Refusal.UNKNOWN_TRAINING: 409,
}
ORDER = (Refusal.UNKNOWN_REQUEST, Refusal.NOT_RUNNER, Refusal.NOT_APPROVED, Refusal.UNKNOWN_TRAINING)
"""The order refusals are checked in, for an item and for a batch: 404 before 403 before 409."""


@dataclass(frozen=True)
class Item:
    """What the rule needs to know of one item of a report, as the caller is now."""

    visible: bool
    """The caller may see the request (the person guard let it through, or refused only its role, and the
    request is one its organisation may read)."""
    is_requester: bool
    """The request was asked by the caller's organisation."""
    status: RequestStatus | None
    """The request's status (None: no such request)."""
    training_known: bool
    """The request has a training of the item's id."""


def refusal(item: Item, organisation_type: OrganisationType, roles: frozenset[Role]) -> Refusal | None:
    """Why the caller may not report this item's hours, or None when it may."""
    if not item.visible or item.status is None:
        return Refusal.UNKNOWN_REQUEST
    if not runs_trajectory(organisation_type, roles, is_requester=item.is_requester):
        return Refusal.NOT_RUNNER
    if item.status is not REPORTED_STATUS:
        return Refusal.NOT_APPROVED
    if not item.training_known:
        return Refusal.UNKNOWN_TRAINING
    return None


def batch_refusal(refusals: list[Refusal | None]) -> Refusal | None:
    """The refusal a batch answers with: the first in :data:`ORDER` that any item got (None: every item may be
    recorded)."""
    return next((kind for kind in ORDER if kind in refusals), None)


@dataclass(frozen=True)
class Flaw:
    """What is wrong with the choice of an hours list's lines (400): the query parameter (None: the combination of
    those given) and what is wrong."""

    name: str | None
    message: str
    detail: str | None = None


ONE_WAY = "Give exactly one of: month, or from and to"


def month_number(month: str) -> int:
    """Months counted from year 0 (``2027-01`` → 24325): the length of a period is a difference of two."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def period(month: str | None, first: str | None, last: str | None) -> tuple[str, str] | list[Flaw]:
    """The months an hours list covers, ``(first, last)`` both included, from its parameters (each already a
    well-formed month): ``month`` alone, or ``first`` (``from``) and ``last`` (``to``) together, ``last`` not before
    ``first`` and at most :data:`MAX_PERIOD_MONTHS` months; otherwise what is wrong."""
    given = [name for name, value in (("month", month), ("from", first), ("to", last)) if value is not None]
    if month is not None and len(given) > 1:
        detail = f"{', '.join(given)} were given together"
        return [Flaw(name, ONE_WAY, detail) for name in given]
    if month is not None:
        return month, month
    if first is None and last is None:
        return [Flaw(None, ONE_WAY, "None was given")]
    if first is None or last is None:
        missing = "from" if first is None else "to"
        return [Flaw(missing, "A period needs both from and to", f"{missing} is missing")]
    if last < first:
        return [Flaw("to", "to is before from")]
    length = month_number(last) - month_number(first) + 1
    if length > MAX_PERIOD_MONTHS:
        detail = f"{length} months were asked"
        return [Flaw("to", f"A period is at most {MAX_PERIOD_MONTHS} months", detail)]
    return first, last
