"""Responses as the caller may see them: every field passes through the visibility map of the domain."""

from __future__ import annotations

from datetime import date
from typing import Any

from rp_api.authz.links import Enrichment
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.dossiers import DossierStatus
from rp_api.domain.visibility import Viewer, visible
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
) -> DossierOut:
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
        "registration_forms": forms,
        "requests": requests,
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
    if visible("dossier.insurer", viewers):
        if enrichment.failed("memberData"):
            fields["insurer"] = None
        elif enrichment.affiliation is not None:
            oa_number = enrichment.affiliation.oa_number
            insurer = next((o for o in registry if o.oa_number == oa_number), None)
            fields["insurer"] = InsurerOut(oa_number=oa_number, name=insurer.name if insurer else None)
    if visible("dossier.employers", viewers):
        fields["employers"] = (
            None
            if enrichment.employers is None
            else [
                EmployerOut(
                    enterprise_number=employer.enterprise_number,
                    name=employer.name,
                    prevention_services=None
                    if services is None
                    else [
                        OrganisationRef(enterprise_number=s.enterprise_number, name=name_of(s.enterprise_number))
                        for s in services
                    ],
                )
                for employer, services in enrichment.employers
            ]
        )
    if visible("dossier.regionalServices", viewers):
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
            ]
        )
    if visible("dossier.trioDossierExists", viewers) and (
        enrichment.trio_dossier_exists is not None or enrichment.failed("pseudonymisation") or enrichment.failed("trio")
    ):
        fields["trio_dossier_exists"] = enrichment.trio_dossier_exists
    fields["unavailable_sources"] = list(enrichment.unavailable_sources)
    return DossierOut(**fields)
