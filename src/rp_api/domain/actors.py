"""Who calls API RP: organisation types and the roles each type may hold (DESIGN.md, actors table)."""

from __future__ import annotations

from enum import StrEnum


class OrganisationType(StrEnum):
    INSURER = "insurer"
    """Organisme assureur (OA), mutualité; and the CIN."""
    REGIONAL_SERVICE = "regionalService"
    """Service public régional de l'emploi: VDAB, Forem, Actiris, ADG."""
    PREVENTION_SERVICE = "preventionService"
    """Service externe de prévention et de protection au travail (Co-Prev members)."""
    INAMI = "inami"
    """INAMI/RIZIV itself."""


class Role(StrEnum):
    MEDICAL_ADVISOR = "medicalAdvisor"
    """Médecin-conseil of an insurer."""
    MULTIDISCIPLINARY_TEAM = "multidisciplinaryTeam"
    """Équipe multidisciplinaire working with the médecin-conseil."""
    RETURN_TO_WORK_COORDINATOR = "returnToWorkCoordinator"
    """Coordinateur retour au travail (CReaT)."""
    ADMINISTRATIVE = "administrative"
    """Administrative staff of an insurer or a prevention service."""
    REFERENCE_ADVISOR = "referenceAdvisor"
    """Conseiller référent of a regional service."""
    LIST_MANAGER = "listManager"
    """Gestionnaire de liste of a regional service (decision and hours lists)."""
    OCCUPATIONAL_PHYSICIAN = "occupationalPhysician"
    """Médecin du travail of a prevention service."""
    NURSE = "nurse"
    """Nurse working under the occupational physician."""
    MEDICAL_SECRETARIAT = "medicalSecretariat"
    """Medical secretariat working under the occupational physician."""
    SOCIAL_EXPERT = "socialExpert"
    """Expert social of INAMI."""
    MEDICAL_INSPECTOR = "medicalInspector"
    """Médecin inspecteur (SIDU) of INAMI."""
    AUDITOR = "auditor"
    """Reads the audit log and nothing else: INAMI's for a person's right of access, every organisation's for the
    accesses of its own users (délégué à la protection des données / contrôle interne)."""


ROLES_BY_TYPE: dict[OrganisationType, frozenset[Role]] = {
    OrganisationType.INSURER: frozenset(
        {
            Role.MEDICAL_ADVISOR,
            Role.MULTIDISCIPLINARY_TEAM,
            Role.RETURN_TO_WORK_COORDINATOR,
            Role.ADMINISTRATIVE,
            Role.AUDITOR,
        }
    ),
    OrganisationType.REGIONAL_SERVICE: frozenset({Role.REFERENCE_ADVISOR, Role.LIST_MANAGER, Role.AUDITOR}),
    OrganisationType.PREVENTION_SERVICE: frozenset(
        {Role.OCCUPATIONAL_PHYSICIAN, Role.NURSE, Role.MEDICAL_SECRETARIAT, Role.ADMINISTRATIVE, Role.AUDITOR}
    ),
    OrganisationType.INAMI: frozenset({Role.SOCIAL_EXPERT, Role.MEDICAL_INSPECTOR, Role.AUDITOR}),
}


def roles_allowed(organisation_type: OrganisationType, roles: frozenset[Role]) -> bool:
    """True when the caller holds at least one role and every role belongs to its organisation type."""
    return bool(roles) and roles <= ROLES_BY_TYPE[organisation_type]
