"""The access policy: a pure function of the caller, the action and the person's links (no I/O).

``decide()`` is the only place where access to a person is granted. Deny by default: every path that is not an
explicit permit is a denial with its reason. A permit carries the caller's legal basis: that of its organisation
type in deliberation CSI/CSSS n° 26/060 (:mod:`rp_api.domain.legal_basis`); the link that made it apply is the
decision's reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.legal_basis import DELIBERATION as DELIBERATION
from rp_api.domain.legal_basis import basis_of
from rp_api.domain.links import PersonLinks
from rp_api.domain.principal import Principal


class Action(StrEnum):
    CONSULT_DOSSIER = "consultDossier"
    """Read the person's dossier (administrative data)."""
    CONTRIBUTE_TO_DOSSIER = "contributeToDossier"
    """Create or change something in the dossier (form, request, message, decision)."""
    CONSULT_HEALTH_DATA = "consultHealthData"
    """Read health data (incapacity start date, medical information, medical messages)."""
    READ_LISTS = "readLists"
    """Read a line of the caller's organisation's lists (§48: the decision list, the hours list): the person's SSIN
    and name and the line's administrative columns, never the dossier itself."""


class Reason(StrEnum):
    INSURER_AFFILIATION = "insurerAffiliation"
    REGIONAL_REGISTRATION = "regionalRegistration"
    EMPLOYER_AFFILIATION = "employerAffiliation"
    INAMI_MISSION = "inamiMission"
    NO_LINK = "noLink"
    UNKNOWN_PERSON = "unknownPerson"
    DECEASED = "deceased"
    REPLACED_SSIN = "replacedSsin"
    """Not a denial of the guard any more (a replaced SSIN is followed, see :func:`decide`): the reason of the record
    the platform writes when it moved or merged the person's dossier to their current SSIN during a call
    (:mod:`rp_api.services.identity`), in the person's audit report."""
    ROLE_NOT_ALLOWED = "roleNotAllowed"
    AUDIT_ONLY_ROLE = "auditOnlyRole"
    """An auditor's token names a person: refused (403) without looking the person up, and recorded."""


class Refusal(StrEnum):
    """Why a call that passed the person guard was refused later on: what the audit record of the person says when
    the call failed after its access decision (the permit is never recorded for a call that revealed nothing)."""

    ROLE_NOT_ALLOWED = "roleNotAllowed"
    """A role check of the use case refused (403)."""
    WORKFLOW_STATE = "workflowState"
    """The resource's state does not allow it (409)."""
    PRECONDITION_FAILED = "preconditionFailed"
    """``If-Match`` missing or stale (428, 412)."""
    INVALID_INPUT = "invalidInput"
    """The input was refused after the person was known (400, 422)."""
    NOT_FOUND = "notFound"
    """The resource is not one the caller may see (404)."""
    UPSTREAM_UNAVAILABLE = "upstreamUnavailable"
    """A source the call needed did not answer (503) or answered garbage (502)."""
    ERROR = "error"
    """Anything else (500)."""


PHYSICIAN_ROLES = frozenset(
    {
        Role.MEDICAL_ADVISOR,
        Role.MULTIDISCIPLINARY_TEAM,
        Role.OCCUPATIONAL_PHYSICIAN,
        Role.NURSE,
        Role.MEDICAL_SECRETARIAT,
        Role.MEDICAL_INSPECTOR,
    }
)
"""Physicians and those working under them: the only roles that see health data."""

AUDIT_ONLY_ROLES = frozenset({Role.AUDITOR})
"""Roles that read the audit log and nothing else (data minimisation: the log answers who accessed what; the
auditor needs no dossier for that)."""

LIST_ONLY_ROLES = frozenset({Role.LIST_MANAGER})
"""Roles that read their organisation's lists and nothing else: deliberation 26/060 §48 gives the regional service's
gestionnaire de liste the lists (decisions, hours performed, follow-up); the reference advisor does the rest of the
regional work (reads and opens dossiers, forms, requests, messages, reports hours). A token that also holds another
working role keeps what that role gives."""


@dataclass(frozen=True)
class Caller:
    """What the policy needs to know of the principal."""

    organisation_type: OrganisationType
    enterprise_number: str
    oa_number: int | None
    roles: frozenset[Role]

    @classmethod
    def of(cls, principal: Principal) -> Caller:
        return cls(principal.organisation_type, principal.enterprise_number, principal.oa_number, principal.roles)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Reason
    legal_basis: str | None = None
    replaced_by: str | None = None
    """When the SSIN the call named was replaced and the caller is linked to the person under the SSIN that replaces
    it now (the last of a chain A → B → C): that SSIN. The decision was then taken on its links, and the call goes
    on as a call about it. None otherwise — always for a caller not linked under it (side-doors rule)."""


def _deny(reason: Reason, replaced_by: str | None = None) -> Decision:
    return Decision(allowed=False, reason=reason, replaced_by=replaced_by)


def _link(caller: Caller, links: PersonLinks) -> Reason | None:
    """The link that gives the caller's organisation access to the person, if any."""
    match caller.organisation_type:
        case OrganisationType.INAMI:
            return Reason.INAMI_MISSION
        case OrganisationType.INSURER:
            linked = caller.oa_number is not None and links.insurer_oa_number == caller.oa_number
            return Reason.INSURER_AFFILIATION if linked else None
        case OrganisationType.REGIONAL_SERVICE:
            linked = caller.enterprise_number in links.regional_services
            return Reason.REGIONAL_REGISTRATION if linked else None
        case OrganisationType.PREVENTION_SERVICE:
            linked = caller.enterprise_number in links.prevention_services
            return Reason.EMPLOYER_AFFILIATION if linked else None
    return None


def works_on_dossiers(roles: frozenset[Role]) -> bool:
    """Whether the caller holds a role other than an audit-only one (every endpoint but the audit query and /me
    needs one)."""
    return bool(roles - AUDIT_ONLY_ROLES)


def reads_lists_only(roles: frozenset[Role]) -> bool:
    """Whether every working role of the caller is a list role (a list manager's token, §48): it reads its
    organisation's decision and hours lists, and no dossier, form, request, message, work list or feed."""
    working = roles - AUDIT_ONLY_ROLES
    return bool(working) and working <= LIST_ONLY_ROLES


def role_allows(roles: frozenset[Role], action: Action) -> bool:
    """Whether the caller's roles allow the action at all, whoever the person (the links decide the rest)."""
    match action:
        case Action.READ_LISTS:
            return works_on_dossiers(roles)
        case Action.CONSULT_DOSSIER | Action.CONTRIBUTE_TO_DOSSIER:
            return bool(roles - AUDIT_ONLY_ROLES - LIST_ONLY_ROLES)
        case Action.CONSULT_HEALTH_DATA:
            return not roles.isdisjoint(PHYSICIAN_ROLES)
    return False


def decide(caller: Caller, action: Action, links: PersonLinks, successor: PersonLinks | None = None) -> Decision:
    """``successor``: for a replaced SSIN, the links of the SSIN that replaces it now (the last of a chain
    A → B → C; None when the chain could not be followed to its end).

    The person's identity over time (deliberation 26/060 §7): a replaced SSIN names the same person as the SSIN
    that replaces it. A caller linked to the person under the current SSIN (INAMI always) is decided on that SSIN's
    links — death and role included — and the decision names it (``replaced_by``): the call goes on as a call about
    it. Anyone else gets exactly what an unlinked caller gets (``noLink``, 404), so that an SSIN's existence and
    successor cannot be probed (side-doors rule)."""
    if not links.registered:
        return _deny(Reason.UNKNOWN_PERSON)
    if links.replaced_by is not None:
        current = successor
        if current is None or not current.registered or current.replaced_by is not None:
            return _deny(Reason.NO_LINK)
        if _link(caller, current) is None:
            return _deny(Reason.NO_LINK)
        return replace(decide(caller, action, current), replaced_by=current.ssin)
    link = _link(caller, links)
    if link is None:
        return _deny(Reason.NO_LINK)
    if links.deceased and caller.organisation_type is not OrganisationType.INAMI:
        return _deny(Reason.DECEASED)
    if not role_allows(caller.roles, action):
        return _deny(Reason.ROLE_NOT_ALLOWED)
    return Decision(allowed=True, reason=link, legal_basis=basis_of(caller.organisation_type).text)


class AuditScope(StrEnum):
    """Whose events an auditor's query covers."""

    EVERY_ORGANISATION = "everyOrganisation"
    """INAMI's auditor answering a person's right of access: every access to that person, by anyone."""
    OWN_ORGANISATION = "ownOrganisation"
    """An organisation's auditor (INAMI's included) controlling what its own users did."""


def audit_scope(caller: Caller, *, person_named: bool) -> AuditScope | None:
    """The events an audit query may return; ``None``: the caller may not query the log at all."""
    if Role.AUDITOR not in caller.roles:
        return None
    if caller.organisation_type is OrganisationType.INAMI and person_named:
        return AuditScope.EVERY_ORGANISATION
    return AuditScope.OWN_ORGANISATION
