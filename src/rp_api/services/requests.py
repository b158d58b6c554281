"""Request use cases: submit (with or without a registration form), the insurer's validation, withdrawal, medical
information, and the medical inspector's advice with its non-medical conclusion; the request as each caller may see
it (the visibility table). Decisions and hours are in :mod:`rp_api.services.decisions`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonGuard
from rp_api.authz.principal import Principal
from rp_api.domain import requests as rules
from rp_api.domain.forms import FormStatus
from rp_api.domain.policy import Action, Refusal
from rp_api.domain.requests import RequestAction, RequestStatus, RequestType
from rp_api.domain.visibility import Block, Read, may_write, read_level, viewers_of, visible, write_refusal
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
from rp_api.schemas.request import (
    DecisionOut,
    MedicalConclusionOut,
    RequestIn,
    RequestOut,
    TrainingOut,
    ValidationOut,
)
from rp_api.services import routing
from rp_api.urls import API_PREFIX

REQUEST = "request"


def decision_out(decision: Decision, *, amount: bool = True, motivation: bool = True) -> DecisionOut:
    """INAMI's decision; without its approved amount (a cost) or its motivation for a caller who may not see them."""
    fields: dict[str, Any] = {
        "id": decision.id,
        "request_id": decision.request_id,
        "week": decision.week,
        "outcome": decision.outcome,
        "period_start": decision.period_start,
        "period_end": decision.period_end,
        "decided_at": decision.decided_at,
    }
    if amount:
        fields["approved_amount"] = decision.approved_amount
    if motivation:
        fields["motivation"] = decision.motivation
    return DecisionOut(**fields)


def view(guard: PersonGuard, request: Request, decision: Decision | None) -> RequestOut:
    """The request as the caller may see it, block by block (the visibility table); whether it may see the request
    at all is :func:`readable_by`'s business (checked when it was loaded or listed)."""
    viewers = viewers_of(guard.principal.organisation_type, guard.principal.roles)

    def sees(block: Block) -> bool:
        return visible(block, viewers)

    costs = sees(Block.REQUEST_COSTS)
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
        "self_": f"{API_PREFIX}/requests/{request.id}",
    }
    if request.registration_form_id is not None:
        fields["registration_form_id"] = request.registration_form_id
    if sees(Block.REQUEST_CONTENT):
        fields["training_project"] = request.training_project
        fields["trainings"] = [
            TrainingOut.model_validate(training if costs else {k: v for k, v in training.items() if k != "cost"})
            for training in request.trainings
        ]
        if request.insurer_contacts:
            fields["insurer_contacts"] = InsurerContacts.model_validate(request.insurer_contacts)
        if request.reference_advisor:
            fields["reference_advisor"] = Contact.model_validate(request.reference_advisor)
    if costs:
        fields["total_cost"] = request.total_cost
    if request.validated is not None and sees(Block.REQUEST_INSURER_VALIDATION):
        fields["insurer_validation"] = ValidationOut(
            validated=request.validated, motivation=request.validation_motivation, at=request.validated_at
        )
    if decision is not None and sees(Block.REQUEST_DECISION):
        fields["decision"] = decision_out(decision, amount=costs, motivation=sees(Block.REQUEST_DECISION_MOTIVATION))
    if request.medical_information and sees(Block.REQUEST_MEDICAL_INFORMATION):
        fields["medical_information"] = request.medical_information
    if request.medical_advice and sees(Block.REQUEST_MEDICAL_ADVICE):
        fields["medical_advice"] = request.medical_advice
    if request.medical_conclusion and sees(Block.REQUEST_MEDICAL_CONCLUSION):
        conclusion: dict[str, Any] = {"conclusion": request.medical_conclusion}
        if request.conclusion_remarks:
            conclusion["remarks"] = request.conclusion_remarks
        fields["medical_conclusion"] = MedicalConclusionOut(**conclusion)
    return RequestOut(**fields)


def readable_by(request: Request, principal: Principal, form_creator: str | None) -> bool:
    """Whether the caller may see the request at all (the visibility table's ``request`` block): every request of
    a person it is linked to, or — a prevention service — only those it took part in: asked by it, or made on a
    form it created (``form_creator``: the organisation that created the request's form, if any)."""
    match read_level(Block.REQUEST, viewers_of(principal.organisation_type, principal.roles)):
        case Read.YES:
            return True
        case Read.TAKEN_PART:
            return principal.enterprise_number in (request.requester_organisation, form_creator)
    return False


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
    if body.medical_information and not may_write(
        Block.REQUEST_MEDICAL_INFORMATION, principal.organisation_type, principal.roles
    ):
        issues.append(
            InputIssue(
                INVALID_INPUT,
                "Only an insurer's médecin-conseil adds medical information",
                write_refusal(Block.REQUEST_MEDICAL_INFORMATION, principal.organisation_type, principal.roles),
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
    """The request, if the caller may see it: the person guard (audited), refined by :func:`readable_by` — a request
    the caller may not see is a 404 like an unknown one, recorded as ``notFound``."""
    request = await repository.get(session, request_id)
    if request is None:
        raise ResourceNotFound()
    dossier = await dossier_repository.get(session, request.dossier_id)
    assert dossier is not None
    principal = guard.principal
    form_creator: str | None = None
    taken_part = read_level(Block.REQUEST, viewers_of(principal.organisation_type, principal.roles))
    if taken_part is Read.TAKEN_PART and request.registration_form_id is not None:
        form = await form_repository.get(session, request.registration_form_id)
        form_creator = form.created_by_organisation if form is not None else None

    def refine() -> str | None:
        return None if readable_by(request, principal, form_creator) else str(Refusal.NOT_FOUND)

    await guard(
        dossier.ssin, action, operation=operation, resource_type=REQUEST, resource_id=str(request.id), refine=refine
    )
    return request, dossier


_WRITES = {
    RequestAction.VALIDATE: Block.REQUEST_INSURER_VALIDATION,
    RequestAction.REFUSE_VALIDATION: Block.REQUEST_INSURER_VALIDATION,
    RequestAction.ADD_MEDICAL_INFORMATION: Block.REQUEST_MEDICAL_INFORMATION,
    RequestAction.ADD_MEDICAL_ADVICE: Block.REQUEST_MEDICAL_ADVICE,
}
"""The block of the visibility table an action writes: the caller's roles must write it too (403 otherwise)."""


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
    conclusion: str | None = None,
    conclusion_remarks: str | None = None,
) -> Request:
    """``text``: the medical information or advice (health data); ``conclusion`` and ``conclusion_remarks``: the
    medical inspector's non-medical conclusion that goes with its advice, for the social expert (26/060 §49–50)."""
    principal = guard.principal
    is_requester = request.requester_organisation == principal.enterprise_number
    writes = _WRITES.get(action)
    if not rules.may_act(
        action, organisation_type=principal.organisation_type, roles=principal.roles, is_requester=is_requester
    ) or (writes is not None and not may_write(writes, principal.organisation_type, principal.roles)):
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
        request.medical_conclusion = conclusion
        request.conclusion_remarks = conclusion_remarks
    request.status = target
    request.updated_at = now
    await flush_or_precondition_failed(session, lang=lang)
    await dossier_repository.touch(session, dossier.id)
    medical = action in (RequestAction.ADD_MEDICAL_INFORMATION, RequestAction.ADD_MEDICAL_ADVICE)
    await routing.route_request(session, guard, registry, request, dossier.ssin, medical=medical)
    return request
