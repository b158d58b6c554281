"""The dossier's life (dossier de communication): ``active`` while its trajectory runs, ``closed`` when it ends or
when the person's insurer or INAMI closes it. Pure rules; the repository's SQL
(:func:`rp_api.repositories.dossiers.touch`) implements exactly these, and a test checks that both agree.

- A registration form is *open* while it is a draft, awaits the insurer's target-group decision, or is submitted
  with no request made on it yet (a valid form waits for the regional service's request). It is *finished* when it
  is cancelled, out of the target group, or submitted with a request made on it.
- A request is *open* while it awaits the insurer's validation, is at INAMI, or is approved and its trajectory's
  follow-up has not recorded ``ended`` (an approved training or coaching path runs until the party that runs it
  records its end, :mod:`rp_api.domain.follow_up`). It is *finished* when the insurer refused it, INAMI refused it,
  its requester withdrew it, or, approved, its follow-up recorded ``ended``.
- The dossier is ``active`` while one of its forms or requests is open, and when it has none yet (just created by
  the caller that starts a trajectory, :mod:`rp_api.domain.dossier_creation`); ``closed`` when every one is
  finished (so recording the end of its last running trajectory closes it).
- Closed explicitly (by the person's insurer or INAMI), it stays closed whatever its items say, until a *new* form or
  request is created in it: that reopens it, and the explicit close is lifted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.forms import FormStatus
from rp_api.domain.requests import RequestStatus


class DossierStatus(StrEnum):
    ACTIVE = "active"
    """A form or a request is open (or there is none yet): the trajectory runs."""
    CLOSED = "closed"
    """The trajectory ended (every form and request finished), or the insurer or INAMI closed the dossier."""


FORM_OPEN = frozenset({FormStatus.DRAFT, FormStatus.AWAITING_TARGET_GROUP_DECISION})
"""Form states that are open whatever else the dossier holds."""
FORM_OPEN_UNTIL_REQUESTED = frozenset({FormStatus.SUBMITTED})
"""A valid form is open until a request is made on it."""
FORM_FINISHED = frozenset({FormStatus.CANCELLED, FormStatus.NOT_IN_TARGET_GROUP})
REQUEST_OPEN = frozenset({RequestStatus.AWAITING_INSURER_VALIDATION, RequestStatus.AT_INAMI})
"""Request states that are open whatever their follow-up."""
REQUEST_OPEN_UNTIL_ENDED = frozenset({RequestStatus.APPROVED})
"""Approved: the training or coaching path runs until its follow-up records ``ended``."""
REQUEST_FINISHED = frozenset({RequestStatus.REFUSED_BY_INSURER, RequestStatus.REFUSED, RequestStatus.WITHDRAWN})

CLOSERS: dict[OrganisationType, frozenset[Role]] = {
    OrganisationType.INSURER: frozenset({Role.MEDICAL_ADVISOR, Role.RETURN_TO_WORK_COORDINATOR}),
    OrganisationType.INAMI: frozenset({Role.SOCIAL_EXPERT}),
}
"""Who may close a dossier explicitly: the person's insurer (médecin-conseil, CReaT) and INAMI's social experts (the
person guard checks that an insurer is the person's)."""


@dataclass(frozen=True)
class FormState:
    """What the dossier's life needs to know of a registration form."""

    status: FormStatus
    requested: bool
    """A request was made on the form (whatever became of it)."""


@dataclass(frozen=True)
class RequestState:
    """What the dossier's life needs to know of a request."""

    status: RequestStatus
    ended: bool
    """Its trajectory's follow-up recorded ``ended`` (only an approved request is followed)."""


@dataclass(frozen=True)
class DossierLife:
    """The dossier's status after a change, and whether an explicit close still holds (``closed_by`` kept)."""

    status: DossierStatus
    explicitly_closed: bool


def form_is_open(form: FormState) -> bool:
    if form.status in FORM_OPEN:
        return True
    return form.status in FORM_OPEN_UNTIL_REQUESTED and not form.requested


def request_is_open(request: RequestState) -> bool:
    if request.status in REQUEST_OPEN:
        return True
    return request.status in REQUEST_OPEN_UNTIL_ENDED and not request.ended


def trajectory_status(forms: Iterable[FormState], requests: Iterable[RequestState]) -> DossierStatus:
    """The status the items alone give: active while one is open or there is none yet, else closed."""
    forms, requests = list(forms), list(requests)
    if not forms and not requests:
        return DossierStatus.ACTIVE
    if any(form_is_open(form) for form in forms) or any(request_is_open(request) for request in requests):
        return DossierStatus.ACTIVE
    return DossierStatus.CLOSED


def after_change(
    forms: Iterable[FormState],
    requests: Iterable[RequestState],
    *,
    explicitly_closed: bool,
    new_item: bool,
) -> DossierLife:
    """The dossier's life once something changed in it. ``explicitly_closed``: its insurer or INAMI had closed it;
    ``new_item``: the change created a form or a request (which lifts an explicit close)."""
    if explicitly_closed and not new_item:
        return DossierLife(DossierStatus.CLOSED, explicitly_closed=True)
    return DossierLife(trajectory_status(forms, requests), explicitly_closed=False)


def may_close(organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    """Whether the caller's organisation type and roles may close a dossier (its link to the person is the guard's)."""
    return not roles.isdisjoint(CLOSERS.get(organisation_type, frozenset()))


def may_be_closed(status: DossierStatus) -> bool:
    """Only an active dossier can be closed (closing a closed one is refused, 409)."""
    return status is DossierStatus.ACTIVE
