"""Responses as the caller may see them: every block passes through the visibility table of the domain
(:mod:`rp_api.domain.visibility`), for the caller's roles and, where a block is seen only through the caller's own
link or participation, for its organisation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from rp_api.authz.links import Enrichment
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.dossiers import DossierStatus
from rp_api.domain.visibility import Block, Read, Viewer, read_level, visible
from rp_api.models.dossier import Dossier
from rp_api.models.registration_form import RegistrationForm
from rp_api.schemas.dossier import (
    DossierOut,
    EmployerOut,
    InsurerOut,
    OrganisationRef,
    PersonOut,
    RegionalServiceOut,
)
from rp_api.schemas.registration_form import (
    CreatedBy,
    InsurerContacts,
    PhysicianQuestion,
    RegistrationFormOut,
    TargetGroupDecisionOut,
)
from rp_api.schemas.request import RequestOut
from rp_api.urls import API_PREFIX


def incapacity_at_least_one_year(start: date, today: date) -> bool:
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        anniversary = date(start.year + 1, 3, 1)
    return anniversary <= today


def form_view(form: RegistrationForm, viewers: frozenset[Viewer], *, today: date) -> RegistrationFormOut:
    fields: dict[str, Any] = {
        "id": form.id,
        "dossier_id": form.dossier_id,
        "routing": form.routing,
        "status": form.status,
        "created_by": CreatedBy(
            enterprise_number=form.created_by_organisation, type=form.created_by_type, role=form.created_by_role
        ),
        "created_at": form.created_at,
        "updated_at": form.updated_at,
        "self_": f"{API_PREFIX}/registrationForms/{form.id}",
    }
    if form.submitted_at is not None:
        fields["submitted_at"] = form.submitted_at

    def show(name: str, value: Any, field: str | None = None) -> None:
        if value is not None and visible(f"form.{field or name}", viewers):
            fields[name] = value

    if form.incapacity_start_date is not None:
        show(
            "incapacity_at_least_one_year",
            incapacity_at_least_one_year(form.incapacity_start_date, today),
            "incapacityAtLeastOneYear",
        )
    show("incapacity_start_date", form.incapacity_start_date, "incapacityStartDate")
    show("expectations", form.expectations)
    show("work_problems", form.work_problems, "workProblems")
    show(
        "insurer_contacts",
        InsurerContacts.model_validate(form.insurer_contacts) if form.insurer_contacts else None,
        "insurerContacts",
    )
    show("occupational_physician_name", form.occupational_physician_name, "occupationalPhysicianName")
    question: dict[str, Any] = {}
    if form.question_expectations is not None and visible("form.physicianQuestion.expectations", viewers):
        question["expectations"] = form.question_expectations
    if form.question_functional_capacities is not None and visible(
        "form.physicianQuestion.functionalCapacities", viewers
    ):
        question["functional_capacities"] = form.question_functional_capacities
    if question:
        fields["physician_question"] = PhysicianQuestion(**question)
    if form.in_target_group is not None:
        show(
            "target_group_decision",
            TargetGroupDecisionOut(
                in_target_group=form.in_target_group,
                motivation=form.target_group_motivation,
                decided_at=form.target_group_decided_at,
            ),
            "targetGroupDecision",
        )
    return RegistrationFormOut(**fields)


def dossier_view(
    dossier: Dossier,
    enrichment: Enrichment,
    forms: list[RegistrationFormOut],
    requests: list[RequestOut],
    viewers: frozenset[Viewer],
    registry: OrganisationRegistry,
    caller: str | None = None,
) -> DossierOut:
    """The dossier as the viewers may see it (the visibility table). ``caller``: the enterprise number of the
    caller's organisation, for the blocks it sees only through its own link (a prevention service: the employers
    affiliated to it; a regional service: its own registration) and the forms and requests it sees only when it
    took part in them; without it, those show nothing (fail closed)."""

    def name_of(enterprise_number: str) -> str | None:
        organisation = registry.by_enterprise_number(enterprise_number)
        return organisation.name if organisation else None

    person = enrichment.person
    fields: dict[str, Any] = {
        "id": dossier.id,
        "status": dossier.status,
        "person": PersonOut(
            ssin=dossier.ssin,
            given_name=person.given_name if person else None,
            family_name=person.family_name if person else None,
            deceased=person.death_date is not None if person else None,
        ),
        "registration_forms": taken_part_forms(forms, viewers, caller),
        "requests": taken_part_requests(requests, forms, viewers, caller),
        "created_at": dossier.created_at,
        "updated_at": dossier.updated_at,
        "self_": f"{API_PREFIX}/dossiers/{dossier.id}",
    }
    if dossier.status == DossierStatus.CLOSED:
        if dossier.closed_at is not None:
            fields["closed_at"] = dossier.closed_at
        if dossier.closed_by is not None:
            fields["closed_by"] = OrganisationRef(enterprise_number=dossier.closed_by, name=name_of(dossier.closed_by))
    # A block whose source failed is null (the source named in unavailableSources); absent means nothing to show.
    if visible(Block.DOSSIER_INSURER, viewers):
        if enrichment.failed("memberData"):
            fields["insurer"] = None
        elif enrichment.affiliation is not None:
            oa_number = enrichment.affiliation.oa_number
            insurer = next((o for o in registry if o.oa_number == oa_number), None)
            fields["insurer"] = InsurerOut(oa_number=oa_number, name=insurer.name if insurer else None)
    employers = read_level(Block.DOSSIER_EMPLOYERS, viewers)
    if employers is not Read.NO:
        fields["employers"] = (
            None if enrichment.employers is None else _employers(enrichment, employers, caller, name_of)
        )
    registrations = read_level(Block.DOSSIER_REGIONAL_SERVICES, viewers)
    if registrations is not Read.NO:
        fields["regional_services"] = (
            None
            if enrichment.registrations is None
            else [
                RegionalServiceOut(
                    enterprise_number=r.regional_service,
                    name=name_of(r.regional_service),
                    registration_date=r.registration_date,
                )
                for r in enrichment.registrations
                if registrations is Read.YES or r.regional_service == caller
            ]
        )
    if visible(Block.DOSSIER_TRIO, viewers) and (
        enrichment.trio_dossier_exists is not None or enrichment.failed("pseudonymisation") or enrichment.failed("trio")
    ):
        fields["trio_dossier_exists"] = enrichment.trio_dossier_exists
    fields["unavailable_sources"] = list(enrichment.unavailable_sources)
    return DossierOut(**fields)


def _employers(
    enrichment: Enrichment, level: Read, caller: str | None, name_of: Callable[[str], str | None]
) -> list[EmployerOut]:
    """The person's employers and their prevention services; through the caller's own link only (``OWN_LINK``):
    the employers affiliated to the caller, each with the caller as its only prevention service (an employer whose
    services are not known, SEED-Connect having failed for it, is not known to be the caller's: left out)."""
    shown = []
    for employer, services in enrichment.employers or ():
        if level is Read.YES:
            refs = None if services is None else [s.enterprise_number for s in services]
        elif caller is not None and services is not None and any(s.enterprise_number == caller for s in services):
            refs = [caller]
        else:
            continue
        shown.append(
            EmployerOut(
                enterprise_number=employer.enterprise_number,
                name=employer.name,
                prevention_services=None
                if refs is None
                else [OrganisationRef(enterprise_number=ref, name=name_of(ref)) for ref in refs],
            )
        )
    return shown


def taken_part_forms(
    forms: list[RegistrationFormOut], viewers: frozenset[Viewer], caller: str | None
) -> list[RegistrationFormOut]:
    """The forms of a dossier the viewers may see as a whole (:data:`Block.FORM`): all those given (each already
    readable by its own rule), or, for those who see only what they took part in, the ones the caller created."""
    match read_level(Block.FORM, viewers):
        case Read.YES:
            return forms
        case Read.TAKEN_PART:
            return [form for form in forms if caller is not None and form.created_by.enterprise_number == caller]
    return []


def taken_part_requests(
    requests: list[RequestOut], forms: list[RegistrationFormOut], viewers: frozenset[Viewer], caller: str | None
) -> list[RequestOut]:
    """The requests of a dossier the viewers may see (:data:`Block.REQUEST`): all, or, for those who see only what
    they took part in, the requests the caller made or that were made on a form the caller created."""
    match read_level(Block.REQUEST, viewers):
        case Read.YES:
            return requests
        case Read.TAKEN_PART if caller is not None:
            own_forms = {form.id for form in forms if form.created_by.enterprise_number == caller}
            return [
                request
                for request in requests
                if request.requester.get("enterpriseNumber") == caller or request.registration_form_id in own_forms
            ]
    return []
