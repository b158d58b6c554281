"""Who creates a dossier (dossier de communication), and when. Pure rules.

The persons of deliberation CSI/CSSS n° 26/060 are persons in a return-to-work trajectory (§3); a dossier is kept
three years after its last change. So a dossier is created by whoever *starts a trajectory* in it, never by a mere
lookup and never for a deceased person (DESIGN.md):

- ``POST /dossiers {ssin}`` is a lookup: the person's dossier when there is one (200), else 404 ``resourceNotFound``,
  for everyone (the same answer as for a person the caller may not see: a lookup tells nobody whether a trajectory
  exists elsewhere, and creates nothing).
- ``POST /dossiers {ssin, "start": "registrationForm"}`` or ``"start": "request"``: the caller says it starts a
  trajectory: a registration form (the roles that may create one in their organisation type,
  :data:`rp_api.domain.forms.CREATOR_ROLES`) or a request without a form (an insurer's requesters,
  :data:`rp_api.domain.requests.REQUESTER_ROLES`; a regional service asks on a valid registration form, so it starts
  with the form). The dossier is created when there is none (201), or answered as it is (200). Any other role: 403.
- Never for a deceased person: no trajectory starts, nothing is created, and the answer is 404 ``resourceNotFound``
  (what every organisation but INAMI gets from the person guard for a deceased person, so that the answer tells
  nobody of a death; INAMI, which sees deceased persons, starts no trajectory: its roles get 403 first).

The person's identity over time (:mod:`rp_api.domain.identity`): ``exists`` is asked of the person, not of an SSIN
string. The person guard runs first and, when the SSIN named was replaced or the register lists earlier SSINs for it,
moves (or merges) a dossier stored under an earlier SSIN to the current one; the lookup then looks under the current
SSIN. So naming the old SSIN or the new one finds the one dossier, and starting a trajectory under the new SSIN when
the old one has a dossier answers that dossier (200), never a second one.

A TRIO hand-over would be a third way to start (the organisations of both platforms); there is no TRIO hand-over
flow in API RP yet, so there is no ``start`` value for it.
"""

from __future__ import annotations

from enum import StrEnum

from rp_api.domain import forms, requests
from rp_api.domain.actors import OrganisationType, Role


class Start(StrEnum):
    """What the caller starts, which makes it the one that creates the person's dossier."""

    REGISTRATION_FORM = "registrationForm"
    """A registration form (formulaire d'inscription): standard (insurer, occupational physician) or routing C
    (regional service's reference advisor)."""
    REQUEST = "request"
    """A request to INAMI without a registration form (an insurer's medical advisor or coordinator)."""


class Opening(StrEnum):
    """What ``POST /dossiers`` does, once the person guard let the caller through."""

    FOUND = "found"
    """The person's dossier exists: answered as it is (200)."""
    CREATED = "created"
    """The caller starts a trajectory and there is no dossier yet: created (201)."""
    NO_DOSSIER = "noDossier"
    """A lookup of a person without a dossier: 404 ``resourceNotFound``, nothing created."""
    ROLE_CANNOT_START = "roleCannotStart"
    """The caller's roles may not start this trajectory in its organisation type: 403 ``missingPermission``."""
    DECEASED = "deceased"
    """No trajectory starts for a deceased person: 404 ``resourceNotFound``, nothing created."""


def may_start(start: Start, organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    """Whether the caller's roles may start this trajectory in its organisation type."""
    match start:
        case Start.REGISTRATION_FORM:
            return forms.may_create(organisation_type, roles)
        case Start.REQUEST:
            return requests.may_submit(organisation_type, roles) and not requests.needs_registration_form(
                organisation_type
            )
    return False


def opening(
    start: Start | None,
    *,
    organisation_type: OrganisationType,
    roles: frozenset[Role],
    exists: bool,
    deceased: bool,
) -> Opening:
    """The outcome of ``POST /dossiers`` for a caller the person guard let through: ``start`` is what the caller
    starts (None: a lookup), ``exists`` whether the person has a dossier, ``deceased`` whether the National Register
    knows a death date. Checked in this order: role (403, whether or not a dossier exists), death, existence."""
    if start is None:
        return Opening.FOUND if exists else Opening.NO_DOSSIER
    if not may_start(start, organisation_type, roles):
        return Opening.ROLE_CANNOT_START
    if deceased:
        return Opening.DECEASED
    return Opening.FOUND if exists else Opening.CREATED
