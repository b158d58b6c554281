"""Amendments (modification d'une demande) and extensions (prolongation d'un trajet) of requests. Pure rules.

- **Amendment.** The requester — its organisation, in a role that may ask — changes the content of a request INAMI
  has not decided yet (awaiting the insurer's validation, or at INAMI): its training project, its trainings (dates,
  provider, title, planned hours, cost; the total cost is their sum), the insurer's contacts and the reference
  advisor. Never its type, its person, its registration form or its health data. The change is a JSON merge patch
  (RFC 7396) of the request's content; each amendment makes a new version and keeps the content it replaced (a
  revision). When the trainings or their cost change on a request whose route waits for the insurer's validation
  (a regional service's training) and the insurer had already given it, the validation no longer holds: it is
  cleared and the request waits for the insurer again. INAMI decides an amended request like any other.
- **Extension.** A decided (approved) trajectory is extended by a new request linked to it, asked by the party
  that runs it (:func:`rp_api.domain.requests.runs_trajectory`); the new request takes the type of the one it
  extends and follows the same route as any request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.requests import RequestStatus, RequestType, initial_status, may_submit, runs_trajectory

AMENDABLE_STATUSES = frozenset({RequestStatus.AWAITING_INSURER_VALIDATION, RequestStatus.AT_INAMI})
"""States in which a request may still be amended: INAMI has not decided, nobody refused or withdrew it."""
AMENDABLE_FIELDS = ("trainingProject", "trainings", "insurerContacts", "referenceAdvisor")
"""The members of a request's content an amendment may change (the JSON names). The total cost follows the
trainings' costs; the type, the person, the registration form and the health data are not amendable."""
VALIDATED_FIELDS = frozenset({"trainings", "totalCost"})
"""What the insurer's validation of a training request bears on: a change to one of them voids the validation."""
EXTENDABLE_STATUSES = frozenset({RequestStatus.APPROVED})
"""Only a trajectory INAMI approved can be extended (prolongation)."""

TRAINING_ID = re.compile(r"^t([1-9]\d{0,2})$")
"""A training's id within its request: ``t1``, ``t2``…"""


def may_amend(organisation_type: OrganisationType, roles: frozenset[Role], *, is_requester: bool) -> bool:
    """Only the requester amends its request: the organisation that asked, in a role that may ask (not
    necessarily the same user or role: the insurer's médecin-conseil may amend what its coordinator asked)."""
    return is_requester and may_submit(organisation_type, roles)


def amendable(status: RequestStatus) -> bool:
    return status in AMENDABLE_STATUSES


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: ``patch``'s members replace ``target``'s, objects are merged member by member, a
    ``null`` member removes it, anything else (an array, a scalar) replaces the whole value. Neither argument is
    changed."""
    if not isinstance(patch, Mapping):
        return patch
    merged: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> frozenset[str]:
    """The names whose value differs between two versions of a content (a name missing on one side is None)."""
    return frozenset(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def resets_validation(
    request_type: RequestType, requester_type: OrganisationType, *, validated: bool | None, changes: Iterable[str]
) -> bool:
    """Whether an amendment voids the insurer's validation: the request's route waits for it (a regional service's
    training), the insurer had given it, and the trainings or their cost changed. Changing contacts, the reference
    advisor or the training project leaves it as it is."""
    waits_for_insurer = initial_status(request_type, requester_type) is RequestStatus.AWAITING_INSURER_VALIDATION
    return waits_for_insurer and validated is not None and not VALIDATED_FIELDS.isdisjoint(changes)


def status_after_amendment(status: RequestStatus, *, reset: bool) -> RequestStatus:
    """A voided validation sends the request back to the insurer; otherwise the request stays where it is."""
    return RequestStatus.AWAITING_INSURER_VALIDATION if reset else status


def unknown_training_ids(current: Sequence[str], given: Sequence[str | None]) -> list[int]:
    """The positions of the amended trainings whose ``id`` names no training of the request, or one named before
    in the same list (an id keeps a training; a new training comes without one)."""
    known, seen, wrong = set(current), set[str](), []
    for index, training_id in enumerate(given):
        if training_id is None:
            continue
        if training_id not in known or training_id in seen:
            wrong.append(index)
        seen.add(training_id)
    return wrong


def training_ids(current: Sequence[str], given: Sequence[str | None]) -> list[str]:
    """The ids of the amended trainings: a training that names its id keeps it; each new one gets the next number
    after the highest of the version it amends, so that an id never names two different trainings of two
    successive versions. ``given`` must have passed :func:`unknown_training_ids`."""
    numbers = [int(match.group(1)) for match in map(TRAINING_ID.match, [*current, *filter(None, given)]) if match]
    following = max(numbers, default=0)
    ids = []
    for training_id in given:
        if training_id is None:
            following += 1
            training_id = f"t{following}"
        ids.append(training_id)
    return ids


def may_extend(organisation_type: OrganisationType, roles: frozenset[Role], *, is_requester: bool) -> bool:
    """The party that runs the decided trajectory asks for its extension (its requester, in a role that may ask)."""
    return runs_trajectory(organisation_type, roles, is_requester=is_requester)


def extendable(status: RequestStatus) -> bool:
    return status in EXTENDABLE_STATUSES
