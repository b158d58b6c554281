"""Data minimisation: one map decides, for every field of every response, which viewers see it.

Viewers are grouped by what the deliberation distinguishes: physicians and those working under them see health
data; a regional service sees only whether the incapacity has lasted at least a year, never its start date; the
TRIO flag is shown only to users of both platforms (insurers and prevention services).
"""

from __future__ import annotations

from enum import StrEnum

from rp_api.domain.actors import OrganisationType, Role


class Viewer(StrEnum):
    INSURER_PHYSICIAN = "insurerPhysician"
    INSURER_STAFF = "insurerStaff"
    REGIONAL_SERVICE = "regionalService"
    PREVENTION_PHYSICIAN = "preventionPhysician"
    PREVENTION_STAFF = "preventionStaff"
    INAMI_PHYSICIAN = "inamiPhysician"
    INAMI_STAFF = "inamiStaff"


_PHYSICIAN_VIEWER = {
    Role.MEDICAL_ADVISOR: Viewer.INSURER_PHYSICIAN,
    Role.MULTIDISCIPLINARY_TEAM: Viewer.INSURER_PHYSICIAN,
    Role.OCCUPATIONAL_PHYSICIAN: Viewer.PREVENTION_PHYSICIAN,
    Role.NURSE: Viewer.PREVENTION_PHYSICIAN,
    Role.MEDICAL_SECRETARIAT: Viewer.PREVENTION_PHYSICIAN,
    Role.MEDICAL_INSPECTOR: Viewer.INAMI_PHYSICIAN,
}
_STAFF_VIEWER = {
    OrganisationType.INSURER: Viewer.INSURER_STAFF,
    OrganisationType.REGIONAL_SERVICE: Viewer.REGIONAL_SERVICE,
    OrganisationType.PREVENTION_SERVICE: Viewer.PREVENTION_STAFF,
    OrganisationType.INAMI: Viewer.INAMI_STAFF,
}


def viewers_of(organisation_type: OrganisationType, roles: frozenset[Role]) -> frozenset[Viewer]:
    found = {_PHYSICIAN_VIEWER[role] for role in roles if role in _PHYSICIAN_VIEWER}
    if any(role not in _PHYSICIAN_VIEWER for role in roles) or not found:
        found.add(_STAFF_VIEWER[organisation_type])
    return frozenset(found)


EVERYONE = frozenset(Viewer)
PHYSICIANS = frozenset({Viewer.INSURER_PHYSICIAN, Viewer.PREVENTION_PHYSICIAN, Viewer.INAMI_PHYSICIAN})
INCAPACITY_DATE_VIEWERS = EVERYONE - {Viewer.REGIONAL_SERVICE, Viewer.PREVENTION_STAFF}
"""Insurers manage the incapacity; INAMI rules on it; of a prevention service, only its physicians."""
BOTH_PLATFORMS = frozenset(
    {Viewer.INSURER_PHYSICIAN, Viewer.INSURER_STAFF, Viewer.PREVENTION_PHYSICIAN, Viewer.PREVENTION_STAFF}
)

VISIBILITY: dict[str, frozenset[Viewer]] = {
    # dossier
    "dossier.person": EVERYONE,
    "dossier.insurer": EVERYONE,
    "dossier.employers": EVERYONE,
    "dossier.regionalServices": EVERYONE,
    "dossier.trioDossierExists": BOTH_PLATFORMS,
    # registration form (deliberation, point 52)
    "form.expectations": EVERYONE,
    "form.workProblems": EVERYONE,
    "form.incapacityStartDate": INCAPACITY_DATE_VIEWERS,
    "form.incapacityAtLeastOneYear": EVERYONE,
    "form.insurerContacts": EVERYONE,
    "form.targetGroupDecision": EVERYONE,
    "form.occupationalPhysicianName": EVERYONE,
    "form.physicianQuestion.expectations": EVERYONE,
    "form.physicianQuestion.functionalCapacities": PHYSICIANS,
    # requests (medical information is written by the insurer's physicians for INAMI's medical inspector)
    "request.content": EVERYONE,
    "request.medicalInformation": frozenset({Viewer.INSURER_PHYSICIAN, Viewer.INAMI_PHYSICIAN}),
    "request.medicalAdvice": frozenset({Viewer.INSURER_PHYSICIAN, Viewer.INAMI_PHYSICIAN}),
}
"""Field → who sees it. A field missing from this map is shown to nobody (deny by default)."""

HEALTH_FIELDS = frozenset(
    {
        "form.incapacityStartDate",
        "form.physicianQuestion.functionalCapacities",
        "request.medicalInformation",
        "request.medicalAdvice",
    }
)


def visible(field: str, viewers: frozenset[Viewer]) -> bool:
    return not viewers.isdisjoint(VISIBILITY.get(field, frozenset()))
