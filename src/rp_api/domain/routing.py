"""Work routing (destinataires): which organisations a registration form or a request is addressed to — whose work
lists hold it and whose change feed tells of its changes. Pure rules: the caller gives the person's links (from the
authentic sources, when the item changes) and the item's own parties.

Deliberation 26/060, the flow:
- a registration form the insurer or an occupational physician submits goes to the regional services where the
  person is registered (JobSeeker: step 2) and to the person's insurer;
- a routing C form (started by a regional service) waits for the insurer's target-group decision: the insurer;
- a request goes to the person's insurer (validation of a training, and the decision), the regional services
  where the person is registered, INAMI once it reaches INAMI (at once, or after the insurer's validation), and
  the prevention service whose physician wrote the form it is based on;
- the creator or requester is always an addressee of its own item.

Addressees only accumulate (an organisation once told keeps the item in its lists); reading a list or a feed checks
the person's *current* links again, so one that lost its link sees nothing. Who may *read* what is the policy's and
the visibility table's business, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass

from rp_api.domain.actors import OrganisationType
from rp_api.domain.forms import FormStatus
from rp_api.domain.links import PersonLinks
from rp_api.domain.requests import RequestStatus


@dataclass(frozen=True)
class Party:
    """An organisation named by an item (its creator, its requester)."""

    enterprise_number: str
    type: OrganisationType


@dataclass(frozen=True)
class Directory:
    """What routing needs of the organisation registry."""

    insurers: dict[int, frozenset[str]]
    """Enterprise numbers by OA number (the person's insurer is known by its OA number, MemberData)."""
    inami: frozenset[str]

    def insurer_of(self, links: PersonLinks) -> frozenset[str]:
        if links.insurer_oa_number is None:
            return frozenset()
        return self.insurers.get(links.insurer_oa_number, frozenset())


FORM_REACHES_REGIONAL_SERVICES = frozenset({FormStatus.SUBMITTED})
"""A regional service reads a form once it is valid (the policy of :func:`rp_api.domain.forms.may_read`)."""
FORM_REACHES_INSURER = frozenset(
    {
        FormStatus.AWAITING_TARGET_GROUP_DECISION,
        FormStatus.SUBMITTED,
        FormStatus.NOT_IN_TARGET_GROUP,
        FormStatus.CANCELLED,
    }
)
"""Every state after the draft: the insurer follows its member's path (and decides routing C)."""
MEDICAL_ADDRESSEE_TYPES = frozenset({OrganisationType.INSURER, OrganisationType.INAMI})
"""Who is told of a change to a request's health data (medical information, medical advice): the organisations
whose physicians read them (the insurer's medical advisor and team, INAMI's medical inspector). The feed shows such
an event to physician roles only; a prevention service's physicians may not read them, so their organisation is not
told at all (the event alone would say that medical information exists)."""
REQUEST_AT_INAMI = frozenset({RequestStatus.AT_INAMI, RequestStatus.APPROVED, RequestStatus.REFUSED})
"""States in which the request has reached INAMI."""


def form_addressees(status: FormStatus, creator: Party, links: PersonLinks, directory: Directory) -> frozenset[str]:
    found = {creator.enterprise_number}
    if status in FORM_REACHES_INSURER:
        found |= directory.insurer_of(links)
    if status in FORM_REACHES_REGIONAL_SERVICES:
        found |= links.regional_services
    return frozenset(found)


def request_addressees(
    status: RequestStatus,
    requester: Party,
    form_creator: Party | None,
    links: PersonLinks,
    directory: Directory,
) -> frozenset[str]:
    found = {requester.enterprise_number, *directory.insurer_of(links), *links.regional_services}
    if form_creator is not None and form_creator.type is OrganisationType.PREVENTION_SERVICE:
        found.add(form_creator.enterprise_number)
    if status in REQUEST_AT_INAMI:
        found |= directory.inami
    return frozenset(found)
