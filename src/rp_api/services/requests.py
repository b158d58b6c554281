"""Request use cases: submit (with or without a registration form), the insurer's validation, withdrawal, medical
information, and the medical inspector's advice with its non-medical conclusion; the requester's amendment of a
request not yet decided and the extension of a decided trajectory; the request as each caller may see it (the
visibility table). Decisions are in :mod:`rp_api.services.decisions`, hours in :mod:`rp_api.services.hours`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonAccess, PersonGuard
from rp_api.authz.principal import Principal
from rp_api.domain import amendments
from rp_api.domain import requests as rules
from rp_api.domain.actors import OrganisationType
from rp_api.domain.forms import FormStatus
from rp_api.domain.policy import Action, Refusal
from rp_api.domain.requests import RequestAction, RequestStatus, RequestType
from rp_api.domain.visibility import Block, Read, may_write, read_level, viewers_of, visible, write_refusal
from rp_api.handlers import issue_from_pydantic
from rp_api.models.dossier import Dossier
from rp_api.models.request import Decision, Request, RequestRevision
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
from rp_api.schemas.amendments import AmendedContent, AmendedTraining, ExtensionIn, RequestAmendment
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


def view(
    guard: PersonGuard, request: Request, decision: Decision | None, extensions: list[uuid.UUID] | None = None
) -> RequestOut:
    """The request as the caller may see it, block by block (the visibility table); whether it may see the request
    at all is :func:`readable_by`'s business (checked when it was loaded or listed). ``extensions``: the requests
    that extend it, when the caller reads this one request (lists leave them out)."""
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
    if request.extends_request_id is not None:
        fields["extends"] = request.extends_request_id
    if extensions is not None:
        fields["extensions"] = extensions
    return RequestOut(**fields)


async def shown(session: AsyncSession, guard: PersonGuard, request: Request) -> RequestOut:
    """One request as the caller may see it, with INAMI's decision once taken and, on an approved request, the
    requests that extend it (only an approved trajectory is extended)."""
    decision = await decision_of(session, request.id)
    extensions = (
        await repository.extensions_of(session, request)
        if amendments.extendable(RequestStatus(request.status))
        else None
    )
    return view(guard, request, decision, extensions)


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
    issues = _medical_information_issues(principal, body.medical_information)
    if rules.needs_registration_form(principal.organisation_type) and body.registration_form_id is None:
        issues.append(
            InputIssue(
                INVALID_INPUT, "A regional service asks on a registration form", None, "body", "registrationFormId"
            )
        )
    if issues:
        raise BadRequest(issues)
    if body.registration_form_id is not None:
        await _form_still_valid(session, dossier, body.registration_form_id, lang=lang)
    return await _create(
        session, guard, registry, access, dossier, RequestType(body.type), body.registration_form_id, body
    )


def _medical_information_issues(principal: Principal, medical_information: str | None) -> list[InputIssue]:
    """Medical information (health data) is written by the insurer's médecin-conseil only: anyone else sending it
    gets 400 naming it, and nothing is written."""
    if not medical_information or may_write(
        Block.REQUEST_MEDICAL_INFORMATION, principal.organisation_type, principal.roles
    ):
        return []
    return [
        InputIssue(
            INVALID_INPUT,
            "Only an insurer's médecin-conseil adds medical information",
            write_refusal(Block.REQUEST_MEDICAL_INFORMATION, principal.organisation_type, principal.roles),
            "body",
            "medicalInformation",
        )
    ]


async def _form_still_valid(session: AsyncSession, dossier: Dossier, form_id: uuid.UUID, *, lang: str) -> None:
    form = await form_repository.get(session, form_id)
    if form is None or form.dossier_id != dossier.id or form.status != FormStatus.SUBMITTED:
        raise RegistrationFormNotValid("The registration form is not a submitted form of this dossier", lang=lang)


async def _create(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    access: PersonAccess,
    dossier: Dossier,
    request_type: RequestType,
    registration_form_id: uuid.UUID | None,
    content: RequestIn | ExtensionIn,
    *,
    extends: uuid.UUID | None = None,
) -> Request:
    """A new request (``extends``: the decided request it extends), routed to its addressees; the call's audit
    record names it."""
    principal = guard.principal
    trainings = [
        {"id": f"t{index}", **training.model_dump(mode="json", by_alias=True)}
        for index, training in enumerate(content.trainings, start=1)
    ]
    request = Request(
        id=uuid.uuid4(),
        dossier_id=dossier.id,
        registration_form_id=registration_form_id,
        type=request_type,
        status=rules.initial_status(request_type, principal.organisation_type),
        requester_organisation=principal.enterprise_number,
        requester_type=principal.organisation_type,
        requester_role=sorted(principal.roles & rules.REQUESTER_ROLES[principal.organisation_type])[0],
        training_project=content.training_project,
        trainings=trainings,
        total_cost=sum((t.cost for t in content.trainings), Decimal(0)),
        insurer_contacts=content.insurer_contacts.model_dump(mode="json", exclude_none=True)
        if content.insurer_contacts
        else {},
        reference_advisor=content.reference_advisor.model_dump(mode="json", exclude_none=True)
        if content.reference_advisor
        else None,
        medical_information=content.medical_information,
        extends_request_id=extends,
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
    request, dossier, _ = await _load(session, guard, request_id, action=action, operation=operation)
    return request, dossier


async def _load(
    session: AsyncSession, guard: PersonGuard, request_id: uuid.UUID, *, action: Action, operation: str
) -> tuple[Request, Dossier, PersonAccess]:
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

    access = await guard(
        dossier.ssin, action, operation=operation, resource_type=REQUEST, resource_id=str(request.id), refine=refine
    )
    return request, dossier, access


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


def _content(request: Request) -> dict[str, Any]:
    """The request's amendable content as the API writes it (lowerCamelCase JSON), without absent members: the
    document a merge patch applies to."""
    document: dict[str, Any] = {"trainings": list(request.trainings or [])}
    if request.training_project is not None:
        document["trainingProject"] = request.training_project
    if request.insurer_contacts:
        document["insurerContacts"] = InsurerContacts.model_validate(request.insurer_contacts).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
    if request.reference_advisor:
        document["referenceAdvisor"] = Contact.model_validate(request.reference_advisor).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
    return document


def _compared(content: AmendedContent, trainings: list[AmendedTraining]) -> dict[str, Any]:
    """A content as amendments compare it (models: ``120`` and ``120.00`` hours are the same figure)."""
    return {
        "trainingProject": content.training_project,
        "trainings": trainings,
        "totalCost": sum((t.cost for t in trainings), Decimal(0)),
        # no contact at all is none (``{}`` is how a request without one stores them)
        "insurerContacts": content.insurer_contacts if _any_contact(content.insurer_contacts) else None,
        "referenceAdvisor": content.reference_advisor,
    }


def _any_contact(contacts: InsurerContacts | None) -> bool:
    return contacts is not None and bool(contacts.model_dump(exclude_none=True))


def _revision(request: Request, amended_by: str) -> RequestRevision:
    """What the request held before the amendment: its content, its state and the insurer's validation."""
    validation = None
    if request.validated is not None:
        validation = {
            "validated": request.validated,
            "motivation": request.validation_motivation,
            "at": request.validated_at.isoformat() if request.validated_at else None,
        }
    return RequestRevision(
        request_id=request.id,
        version=request.version,
        content={
            "status": request.status,
            "trainingProject": request.training_project,
            "trainings": request.trainings,
            "totalCost": str(request.total_cost),
            "insurerContacts": request.insurer_contacts,
            "referenceAdvisor": request.reference_advisor,
            "insurerValidation": validation,
        },
        amended_by=amended_by,
    )


def _body_issues(error: ValidationError) -> list[InputIssue]:
    return [issue_from_pydantic({**detail, "loc": ("body", *detail["loc"])}) for detail in error.errors()]


async def amend(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    request: Request,
    dossier: Dossier,
    patch: RequestAmendment,
    *,
    lang: str,
) -> Request:
    """The requester's amendment of a request INAMI has not decided (a JSON merge patch of its content, the caller
    having sent the request's current ETag): a new version, the content it replaces kept as a revision. Changing
    the trainings or their cost voids the insurer's validation of a regional training (the request waits for the
    insurer again). The addressees, computed again from the person's links, are told. A patch that changes nothing
    is no new version."""
    principal = guard.principal
    is_requester = request.requester_organisation == principal.enterprise_number
    if not amendments.may_amend(principal.organisation_type, principal.roles, is_requester=is_requester):
        raise MissingPermission("Only the requester amends its request")
    status = RequestStatus(request.status)
    if not amendments.amendable(status):
        raise TransitionNotAllowed(f"A request that is {status} cannot be amended", lang=lang)

    current = _content(request)
    merged = amendments.merge_patch(current, patch.model_dump(mode="json", by_alias=True, exclude_unset=True))
    try:
        content = AmendedContent.model_validate(merged)
    except ValidationError as error:
        raise BadRequest(_body_issues(error)) from None
    current_ids = [str(training["id"]) for training in request.trainings or []]
    given_ids = [training.id for training in content.trainings]
    issues = [
        InputIssue(INVALID_INPUT, "No such training in the request, or named twice", None, "body", f"trainings[{i}].id")
        for i in amendments.unknown_training_ids(current_ids, given_ids)
    ]
    if RequestType(request.type) is RequestType.TRAINING and not content.trainings:
        issues.append(
            InputIssue(INVALID_INPUT, "A training request lists at least one training", None, "body", "trainings")
        )
    if issues:
        raise BadRequest(issues)

    ids = amendments.training_ids(current_ids, given_ids)
    trainings = [training.model_copy(update={"id": id_}) for training, id_ in zip(content.trainings, ids, strict=True)]
    before = AmendedContent.model_validate(current)
    changes = amendments.changed(_compared(before, before.trainings), _compared(content, trainings))
    if not changes:
        return request

    reset = amendments.resets_validation(
        RequestType(request.type),
        OrganisationType(request.requester_type),
        validated=request.validated,
        changes=changes,
    )
    revision = _revision(request, principal.enterprise_number)
    request.training_project = content.training_project
    if "trainings" in changes:
        request.trainings = [
            {"id": training.id, **training.model_dump(mode="json", by_alias=True, exclude={"id"})}
            for training in trainings
        ]
        request.total_cost = sum((t.cost for t in trainings), Decimal(0))
    contacts = content.insurer_contacts
    request.insurer_contacts = contacts.model_dump(mode="json", exclude_none=True) if contacts is not None else {}
    request.reference_advisor = (
        content.reference_advisor.model_dump(mode="json", exclude_none=True) if content.reference_advisor else None
    )
    if reset:
        request.validated = None
        request.validation_motivation = None
        request.validated_at = None
    request.status = amendments.status_after_amendment(status, reset=reset)
    request.updated_at = datetime.now(UTC)
    # The versioned UPDATE first: a concurrent change of the request is 412 before anything else is written.
    await flush_or_precondition_failed(session, lang=lang)
    await repository.add_revision(session, revision)
    await dossier_repository.touch(session, dossier.id)
    await routing.route_request(session, guard, registry, request, dossier.ssin)
    return request


async def extend(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    request_id: uuid.UUID,
    body: ExtensionIn,
    *,
    lang: str,
) -> Request:
    """The extension (prolongation) of an approved trajectory by the party that runs it: a new request of the same
    type, on the same registration form, linked to the one it extends, that follows the same route as any request
    (a regional service's training waits for the insurer's validation) and that INAMI decides like any other."""
    extended, dossier, access = await _load(
        session, guard, request_id, action=Action.CONTRIBUTE_TO_DOSSIER, operation="extendRequest"
    )
    principal = guard.principal
    is_requester = extended.requester_organisation == principal.enterprise_number
    if not amendments.may_extend(principal.organisation_type, principal.roles, is_requester=is_requester):
        raise MissingPermission("Only the party that runs the trajectory extends it")
    request_type = RequestType(extended.type)
    issues = _medical_information_issues(principal, body.medical_information)
    if request_type is RequestType.TRAINING and not body.trainings:
        issues.append(
            InputIssue(INVALID_INPUT, "A training request lists at least one training", None, "body", "trainings")
        )
    if issues:
        raise BadRequest(issues)
    status = RequestStatus(extended.status)
    if not amendments.extendable(status):
        raise TransitionNotAllowed(f"Only an approved trajectory is extended; this request is {status}", lang=lang)
    if extended.registration_form_id is not None:
        await _form_still_valid(session, dossier, extended.registration_form_id, lang=lang)
    return await _create(
        session,
        guard,
        registry,
        access,
        dossier,
        request_type,
        extended.registration_form_id,
        body,
        extends=extended.id,
    )
