"""The person's consent (formulaire de consentement, deliberation CSI/CSSS n° 26/060 §63). Pure rules.

The persons are informed through a consent form; the dossier records the consents they gave (form version, date,
who recorded it, scope) and their withdrawal. A consent is *in force* from its recording until it is withdrawn.
What needs a consent is refused (409 ``urn:problem-type:rp:consentRequired``) until one of its scope is in force on
the person's dossier, whoever recorded it; a withdrawal stops it again.

- :data:`NEEDS`: what needs which scope. Today one scope, ``occupationalPhysicianContact``: the prevention service's
  (occupational physician's) contact with the employment partner — its registration form (addressed to the regional
  services where the person is registered once submitted), and the conversations it opens with, or writes to, a
  regional service.
- :data:`WHO_MAY`: who records, withdraws and reads the consents of a dossier, per organisation type and role, with
  the reason of each row. The person guard decides first whether the caller is linked to the person (404 before
  403); the table then decides what its roles may do (403 ``missingPermission``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from rp_api.domain.actors import OrganisationType, Role


class ConsentScope(StrEnum):
    """What a consent covers."""

    OCCUPATIONAL_PHYSICIAN_CONTACT = "occupationalPhysicianContact"
    """The occupational physician (the prevention service) may contact the employment partner (the regional
    service) about the person: create a registration form, open a conversation with it and write to it (§63)."""


class ConsentAction(StrEnum):
    RECORD = "record"
    """Record a consent the person gave (the caller's organisation and role are kept)."""
    WITHDRAW = "withdraw"
    """Record the person's withdrawal of a consent."""
    READ = "read"
    """Read the dossier's consents (whether one is in force, since when, recorded by whom)."""


class Contact(StrEnum):
    """A step of the trajectory that may need the person's consent."""

    REGISTRATION_FORM = "registrationForm"
    """Creating a registration form (once submitted, it is addressed to the regional services where the person is
    registered)."""
    CONVERSATION_WITH_REGIONAL_SERVICE = "conversationWithRegionalService"
    """Opening a conversation one of whose participants is a regional service, or posting a message in one."""


@dataclass(frozen=True)
class Need:
    scope: ConsentScope
    reason: str


_PHYSICIAN_CONTACT = ConsentScope.OCCUPATIONAL_PHYSICIAN_CONTACT

NEEDS: dict[tuple[Contact, OrganisationType], Need] = {
    (Contact.REGISTRATION_FORM, OrganisationType.PREVENTION_SERVICE): Need(
        _PHYSICIAN_CONTACT,
        "§63: the occupational physician's registration form is its contact with the employment partner (the form "
        "is addressed to the regional services once submitted); only the occupational physician creates one.",
    ),
    (Contact.CONVERSATION_WITH_REGIONAL_SERVICE, OrganisationType.PREVENTION_SERVICE): Need(
        _PHYSICIAN_CONTACT,
        "§63: the prevention service's messages to the employment partner are the occupational physician's contact "
        "with it; whoever of the service writes them (nurse, secretariat, administrative), they need the same "
        "consent, or a colleague would bypass the person's choice.",
    ),
}
"""What needs a consent in force, per step and organisation type of the caller; anything absent needs none (the
insurer's and INAMI's contacts with the regional service are the platform's ordinary flow, §52; a regional service
writing to a prevention service is not the physician's contact)."""


def needed(contact: Contact, organisation_type: OrganisationType) -> ConsentScope | None:
    """The scope of consent the caller's step needs, or None."""
    need = NEEDS.get((contact, organisation_type))
    return need.scope if need is not None else None


def needed_to_converse(
    organisation_type: OrganisationType, participant_types: Iterable[OrganisationType]
) -> ConsentScope | None:
    """The scope of consent a caller needs to open, or write in, a conversation whose participants are of these
    organisation types (the caller's own included), or None."""
    if OrganisationType.REGIONAL_SERVICE not in set(participant_types):
        return None
    return needed(Contact.CONVERSATION_WITH_REGIONAL_SERVICE, organisation_type)


@dataclass(frozen=True)
class Permission:
    actions: frozenset[ConsentAction]
    reason: str


_ALL = frozenset(ConsentAction)
_WITHDRAW_AND_READ = frozenset({ConsentAction.WITHDRAW, ConsentAction.READ})
_READ = frozenset({ConsentAction.READ})
_NOTHING: frozenset[ConsentAction] = frozenset()

_AUDITOR = Permission(_NOTHING, "Reads the audit log only (the person guard refuses it first).")

WHO_MAY: dict[tuple[OrganisationType, Role], Permission] = {
    (OrganisationType.INSURER, Role.MEDICAL_ADVISOR): Permission(
        _ALL,
        "The médecin-conseil leads the person's return-to-work trajectory and meets the person: informs it, "
        "collects the consent form (§63) and records a withdrawal.",
    ),
    (OrganisationType.INSURER, Role.MULTIDISCIPLINARY_TEAM): Permission(
        _ALL, "Works with the médecin-conseil on the trajectory and meets the person, as the médecin-conseil does."
    ),
    (OrganisationType.INSURER, Role.RETURN_TO_WORK_COORDINATOR): Permission(
        _ALL, "The CReaT accompanies the person through the trajectory and keeps its documents, the consent form too."
    ),
    (OrganisationType.INSURER, Role.ADMINISTRATIVE): Permission(
        _WITHDRAW_AND_READ,
        "Registers a withdrawal the person sends to its insurer (withdrawing is as easy as consenting, GDPR art. "
        "7(3)); does not inform the person, so records no consent.",
    ),
    (OrganisationType.INSURER, Role.AUDITOR): _AUDITOR,
    (OrganisationType.PREVENTION_SERVICE, Role.OCCUPATIONAL_PHYSICIAN): Permission(
        _ALL,
        "The contact that needs the consent is the occupational physician's own: it informs the person, records "
        "the form the person signed, and records a withdrawal (the person guard checks that one of the person's "
        "employers is affiliated to its service).",
    ),
    (OrganisationType.PREVENTION_SERVICE, Role.NURSE): Permission(
        _WITHDRAW_AND_READ,
        "Works under the occupational physician: registers a withdrawal the person makes to the service and reads "
        "whether the physician may contact the employment partner; the physician records the consent.",
    ),
    (OrganisationType.PREVENTION_SERVICE, Role.MEDICAL_SECRETARIAT): Permission(
        _WITHDRAW_AND_READ, "Works under the occupational physician: as the nurse."
    ),
    (OrganisationType.PREVENTION_SERVICE, Role.ADMINISTRATIVE): Permission(
        _NOTHING,
        "Outside the occupational physician's team: the physician's contact with the employment partner is none of "
        "its business (minimisation, §52).",
    ),
    (OrganisationType.PREVENTION_SERVICE, Role.AUDITOR): _AUDITOR,
    (OrganisationType.REGIONAL_SERVICE, Role.REFERENCE_ADVISOR): Permission(
        _READ,
        "The employment partner the consent is about: reads whether the occupational physician may contact it "
        "(§63); records none, the person gives it to the physician or the insurer.",
    ),
    (OrganisationType.REGIONAL_SERVICE, Role.LIST_MANAGER): Permission(
        _NOTHING, "Reads the decision and hours lists only (§48)."
    ),
    (OrganisationType.REGIONAL_SERVICE, Role.AUDITOR): _AUDITOR,
    (OrganisationType.INAMI, Role.SOCIAL_EXPERT): Permission(
        _READ, "INAMI follows the trajectories (its mission): reads whether a consent is in force; records none."
    ),
    (OrganisationType.INAMI, Role.MEDICAL_INSPECTOR): Permission(
        _READ, "INAMI follows the trajectories (its mission): reads whether a consent is in force; records none."
    ),
    (OrganisationType.INAMI, Role.AUDITOR): _AUDITOR,
}
"""Who may do what with the consents of a dossier, per organisation type and role; a pair absent from the table may
do nothing."""


def may(action: ConsentAction, organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    """Whether one of the caller's roles allows the action (its link to the person is the person guard's)."""
    return any(action in WHO_MAY.get((organisation_type, role), _AUDITOR).actions for role in roles)


def recording_role(organisation_type: OrganisationType, roles: frozenset[Role]) -> Role | None:
    """The role a consent is recorded under: the first (by name) of the caller's roles that may record one."""
    allowed = sorted(role for role in roles if may(ConsentAction.RECORD, organisation_type, frozenset({role})))
    return allowed[0] if allowed else None


def in_force(withdrawn_at: datetime | None) -> bool:
    """A recorded consent is in force until it is withdrawn."""
    return withdrawn_at is None


BELGIUM = ZoneInfo("Europe/Brussels")


def belgian_date(now: datetime) -> date:
    """The date in Belgium at ``now`` (an aware date-time), from the IANA time-zone database (``tzdata`` where the
    system has none)."""
    return now.astimezone(BELGIUM).date()


def given_on_allowed(given_on: date, now: datetime) -> bool:
    """A consent cannot have been given after today (in Belgium, where the form is signed)."""
    return given_on <= belgian_date(now)
