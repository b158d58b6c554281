"""Request use cases: submit (with or without a registration form), the insurer's validation, withdrawal, medical
information and advice. Decisions and hours are in :mod:`rp_api.services.decisions`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonGuard
from rp_api.domain import requests as rules
from rp_api.domain.forms import FormStatus
from rp_api.domain.policy import Action
from rp_api.domain.requests import RequestAction, RequestStatus, RequestType
from rp_api.domain.visibility import viewers_of, visible
from rp_api.models.dossier import Dossier
from rp_api.models.request import Decision, Request
from rp_api.preconditions import flush_or_precondition_failed
from rp_api.problems import (
    INVALID_INPUT,
    BadRequest,
    InputIssue,
    MissingPermission,
    RegistrationFormNotValid,
    ResourceNotFound,
    TransitionNotAllowed,
)
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import registration_forms as form_repository
from rp_api.repositories import requests as repository
from rp_api.schemas.registration_form import Contact, InsurerContacts
from rp_api.schemas.request import DecisionOut, RequestIn, RequestOut, TrainingOut, ValidationOut
from rp_api.services import routing
from rp_api.urls import API_PREFIX

REQUEST = "request"


def decision_out(decision: Decision) -> DecisionOut:
    return DecisionOut(
        id=decision.id,
        request_id=decision.request_id,
        week=decision.week,
        outcome=decision.outcome,
        approved_amount=decision.approved_amount,
        period_start=decision.period_start,
        period_end=decision.period_end,
        motivation=decision.motivation,
        decided_at=decision.decided_at,
    )


def view(guard: PersonGuard, request: Request, decision: Decision | None) -> RequestOut:
    viewers = viewers_of(guard.principal.organisation_type, guard.principal.roles)
    fields: dict[str, Any] = {
        "id": request.id,
        "dossier_id": request.dossier_id,
        "type": request.type,
        "status": request.status,
        "requester": {
            "enterpriseNumber": request.requester_organisation,
            "type": request.requester_type,
            "role": request.requester_role,
        },
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "total_cost": request.total_cost,
        "self_": f"{API_PREFIX}/requests/{request.id}",
    }
    if request.registration_form_id is not None:
        fields["registration_form_id"] = request.registration_form_id
    if visible("request.content", viewers):
        fields["training_project"] = request.training_project
        fields["trainings"] = [TrainingOut.model_validate(t) for t in request.trainings]
        if request.insurer_contacts:
            fields["insurer_contacts"] = InsurerContacts.model_validate(request.insurer_contacts)
        if request.reference_advisor:
            fields["reference_advisor"] = Contact.model_validate(request.reference_advisor)
    if request.validated is not None:
        fields["insurer_validation"] = ValidationOut(
            validated=request.validated, motivation=request.validation_motivation, at=request.validated_at
        )
    if decision is not None:
        fields["decision"] = decision_out(decision)
    if request.medical_information and visible("request.medicalInformation", viewers):
        fields["medical_information"] = request.medical_information
    if request.medical_advice and visible("request.medicalAdvice", viewers):
        fields["medical_advice"] = request.medical_advice
    return RequestOut(**fields)


async def submit(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    dossier: Dossier,
    body: RequestIn,
    *,
    lang: str,
) -> Request:
    principal = guard.principal
    access = await guard(dossier.ssin, Action.CONTRIBUTE_TO_DOSSIER, operation="submitRequest", resource_type=REQUEST)
    if not rules.may_submit(principal.organisation_type, principal.roles):
        raise MissingPermission("Your role may not submit a request")
    issues = []
    if body.medical_information and not principal.roles & rules.INSURER_PHYSICIANS:
        issues.append(
            InputIssue(
                INVALID_INPUT,
                "Only an insurer's physician adds medical information",
                None,
                "body",
                "medicalInformation",
            )
        )
    if rules.needs_registration_form(principal.organisation_type) and body.registration_form_id is None:
        issues.append(
            InputIssue(
                INVALID_INPUT, "A regional service asks on a registration form", None, "body", "registrationFormId"
            )
        )
    if issues:
        raise BadRequest(issues)
    if body.registration_form_id is not None:
        form = await form_repository.get(session, body.registration_form_id)
        if form is None or form.dossier_id != dossier.id or form.status != FormStatus.SUBMITTED:
            raise RegistrationFormNotValid("The registration form is not a submitted form of this dossier", lang=lang)

    trainings = [
        {"id": f"t{index}", **training.model_dump(mode="json", by_alias=True)}
        for index, training in enumerate(body.trainings, start=1)
    ]
    request = Request(
        id=uuid.uuid4(),
        dossier_id=dossier.id,
        registration_form_id=body.registration_form_id,
        type=body.type,
        status=rules.initial_status(RequestType(body.type), principal.organisation_type),
        requester_organisation=principal.enterprise_number,
        requester_type=principal.organisation_type,
        requester_role=sorted(principal.roles & rules.REQUESTER_ROLES[principal.organisation_type])[0],
        training_project=body.training_project,
        trainings=trainings,
        total_cost=sum((t.cost for t in body.trainings), Decimal(0)),
        insurer_contacts=body.insurer_contacts.model_dump(mode="json", exclude_none=True)
        if body.insurer_contacts
        else {},
        reference_advisor=body.reference_advisor.model_dump(mode="json", exclude_none=True)
        if body.reference_advisor
        else None,
        medical_information=body.medical_information,
    )
    request = await repository.add(session, request)
    guard.names(access, resource_id=str(request.id))
    # Its addressees (requester, the person's insurer and regional services, INAMI when it goes there at once…)
    # from the person's links now; a source down: 503 (502 for garbage), never a partial set.
    await routing.route_request(session, guard, registry, request, dossier.ssin)
    await dossier_repository.touch(session, dossier.id, new_item=True)
    return request


async def decision_of(session: AsyncSession, request_id: uuid.UUID) -> Decision | None:
    return (await repository.decisions_of(session, [request_id])).get(request_id)


async def load(
    session: AsyncSession, guard: PersonGuard, request_id: uuid.UUID, *, action: Action, operation: str
) -> tuple[Request, Dossier]:
    request = await repository.get(session, request_id)
    if request is None:
        raise ResourceNotFound()
    dossier = await dossier_repository.get(session, request.dossier_id)
    assert dossier is not None
    await guard(dossier.ssin, action, operation=operation, resource_type=REQUEST, resource_id=str(request.id))
    return request, dossier


async def act(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    request: Request,
    dossier: Dossier,
    action: RequestAction,
    *,
    lang: str,
    motivation: str | None = None,
    text: str | None = None,
) -> Request:
    principal = guard.principal
    is_requester = request.requester_organisation == principal.enterprise_number
    if not rules.may_act(
        action, organisation_type=principal.organisation_type, roles=principal.roles, is_requester=is_requester
    ):
        raise MissingPermission()
    status = RequestStatus(request.status)
    target = rules.next_status(action, status)
    if target is None:
        raise TransitionNotAllowed(f"{action} is not possible on a request that is {status}", lang=lang)
    now = datetime.now(UTC)
    if action in (RequestAction.VALIDATE, RequestAction.REFUSE_VALIDATION):
        request.validated = action is RequestAction.VALIDATE
        request.validation_motivation = motivation
        request.validated_at = now
    elif action is RequestAction.ADD_MEDICAL_INFORMATION:
        request.medical_information = text
    elif action is RequestAction.ADD_MEDICAL_ADVICE:
        request.medical_advice = text
    request.status = target
    request.updated_at = now
    await flush_or_precondition_failed(session, lang=lang)
    await dossier_repository.touch(session, dossier.id)
    medical = action in (RequestAction.ADD_MEDICAL_INFORMATION, RequestAction.ADD_MEDICAL_ADVICE)
    await routing.route_request(session, guard, registry, request, dossier.ssin, medical=medical)
    return request
