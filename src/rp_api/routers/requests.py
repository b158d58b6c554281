"""Requests (training or coaching) on a dossier, the insurer's validation, withdrawal, medical information; the
requester's amendment of a request not yet decided, the extension of an approved trajectory."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import Response

from rp_api.authz.person_guard import GuardedPerson, PersonGuard
from rp_api.db import DbSession
from rp_api.domain.policy import Action
from rp_api.domain.requests import RequestAction
from rp_api.i18n import language
from rp_api.idempotency import Idempotency
from rp_api.preconditions import etag, require_if_match
from rp_api.responses import ModelResponse
from rp_api.routers import api_router, problem_response
from rp_api.schemas.amendments import ExtensionIn, RequestAmendment
from rp_api.schemas.request import MedicalAdviceIn, MedicalText, RequestIn, RequestOut, ValidationIn
from rp_api.services import dossiers
from rp_api.services import requests as service
from rp_api.urls import API_PREFIX

router = api_router(
    tags=["Requests"],
    responses={
        404: problem_response("No such request or dossier, or one the caller may not see (404 before 403)."),
        503: problem_response("An authentic source does not answer: access denied."),
    },
)
DossierId = Annotated[uuid.UUID, Path(alias="dossierId")]
RequestId = Annotated[uuid.UUID, Path(alias="requestId")]
CHANGE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: problem_response("The caller's organisation or role may not do this."),
    409: problem_response("Not possible in the request's current state (`urn:problem-type:rp:transitionNotAllowed`)."),
    412: problem_response("The request changed since you read it."),
    428: problem_response("`If-Match` with the request's `ETag` is required."),
}


async def _answer(
    session: DbSession, guard: PersonGuard, request: Any, status: int = 200, location: bool = False
) -> Response:
    headers = {"ETag": etag(request.version)}
    if location:
        headers["Location"] = f"{API_PREFIX}/requests/{request.id}"
    return ModelResponse(await service.shown(session, guard, request), status_code=status, headers=headers)


@router.post(
    "/dossiers/{dossierId}/requests",
    operation_id="submitRequest",
    summary="Ask for a training or a coaching path (regional service on a registration form, or insurer)",
    description="A `training` (its trainings: provider, title, dates, planned hours, cost; the total is computed) or "
    "a `coaching` path. A regional service's reference advisor asks on a submitted registration form of the "
    "dossier, and its training waits for the insurer's validation; a regional coaching path, and what an insurer's "
    "médecin-conseil or coordinator asks without a form, go to INAMI at once. Medical information is written by "
    "the médecin-conseil only (anyone else: 400 naming it). The request's addressees are told.",
    status_code=201,
    response_model=RequestOut,
    responses={
        403: problem_response("The caller's role may not ask."),
        409: problem_response("The form is not valid."),
    },
)
async def submit_request(
    dossier_id: DossierId, body: RequestIn, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    earlier = await idempotency.earlier(body.model_dump(mode="json", by_alias=True))
    if earlier is not None and earlier.resource_id is not None:
        return earlier.answer(await _read_again(session, guard, earlier.resource_id, "submitRequest", location=True))
    dossier = await dossiers.load(session, dossier_id)
    created = await service.submit(
        session,
        guard,
        request.app.state.registry,
        dossier,
        body,
        lang=language(request.headers.get("accept-language")),
    )
    return await idempotency.remember(await _answer(session, guard, created, 201, location=True), created.id)


async def _read_again(
    session: DbSession, guard: PersonGuard, request_id: uuid.UUID, operation: str, *, location: bool = False
) -> Response:
    """An idempotent replay: the request read again, as the caller may see it now (guard, view and audit)."""
    found, _ = await service.load(session, guard, request_id, action=Action.CONSULT_DOSSIER, operation=operation)
    return await _answer(session, guard, found, location=location)


@router.get(
    "/requests/{requestId:uuid}",
    operation_id="getRequest",
    summary="A request as the caller may see it",
    description="With INAMI's decision once taken and, on an approved request, the requests that extend it "
    "(`extensions`); each block as the visibility table gives it to the caller's roles (costs, the insurer's "
    "validation, INAMI's motivation, health data). A prevention service sees only the requests made on its own "
    "forms (another is 404).",
    response_model=RequestOut,
)
async def get_request(request_id: RequestId, session: DbSession, guard: GuardedPerson) -> Response:
    found, _ = await service.load(session, guard, request_id, action=Action.CONSULT_DOSSIER, operation="getRequest")
    return await _answer(session, guard, found)


async def _act(
    request_id: uuid.UUID,
    action: RequestAction,
    request: Request,
    session: DbSession,
    guard: PersonGuard,
    *,
    body: Any = None,
    motivation: str | None = None,
    text: str | None = None,
    conclusion: str | None = None,
    conclusion_remarks: str | None = None,
) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    operation = f"{action}Request"
    earlier = await idempotency.earlier(body.model_dump(mode="json", by_alias=True) if body else {})
    if earlier is not None:
        return earlier.answer(await _read_again(session, guard, request_id, operation))
    found, dossier = await service.load(
        session, guard, request_id, action=Action.CONTRIBUTE_TO_DOSSIER, operation=operation
    )
    require_if_match(request, found.version)
    lang = language(request.headers.get("accept-language"))
    changed = await service.act(
        session,
        guard,
        request.app.state.registry,
        found,
        dossier,
        action,
        lang=lang,
        motivation=motivation,
        text=text,
        conclusion=conclusion,
        conclusion_remarks=conclusion_remarks,
    )
    return await idempotency.remember(await _answer(session, guard, changed), changed.id)


@router.post(
    "/requests/{requestId}/insurerValidation",
    operation_id="validateRequest",
    summary="The insurer validates (or refuses) a regional service's training request before it goes to INAMI",
    description="The person's insurer (médecin-conseil or coordinator), with the request's `ETag`: a validated "
    "training goes to INAMI (`atInami`), a refused one is `refusedByInsurer`. Only a request awaiting the "
    "insurer's validation (409 otherwise); an amendment of its trainings voids the validation.",
    response_model=RequestOut,
    responses=CHANGE_PROBLEMS,
)
async def validate_request(
    request_id: RequestId, body: ValidationIn, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    action = RequestAction.VALIDATE if body.validated else RequestAction.REFUSE_VALIDATION
    return await _act(request_id, action, request, session, guard, body=body, motivation=body.motivation)


@router.post(
    "/requests/{requestId}/withdraw",
    operation_id="withdrawRequest",
    summary="The requester withdraws a request INAMI has not decided",
    description="The requester's organisation, in a role that may ask, with the request's `ETag`: a request "
    "awaiting the insurer's validation or at INAMI becomes `withdrawn`; a decided or refused request is 409.",
    response_model=RequestOut,
    responses=CHANGE_PROBLEMS,
)
async def withdraw_request(
    request_id: RequestId, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    return await _act(request_id, RequestAction.WITHDRAW, request, session, guard)


@router.post(
    "/requests/{requestId}/medicalInformation",
    operation_id="addMedicalInformation",
    summary="The insurer's physician adds medical information for INAMI's medical inspector (health data)",
    description="Written by the insurer's médecin-conseil only (its multidisciplinary team reads it, writes none: "
    "403), with the request's `ETag`, on a request not yet decided. The change is told only to the insurer and "
    "INAMI, whose physicians read it.",
    response_model=RequestOut,
    responses=CHANGE_PROBLEMS,
)
async def add_medical_information(
    request_id: RequestId, body: MedicalText, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    return await _act(
        request_id, RequestAction.ADD_MEDICAL_INFORMATION, request, session, guard, body=body, text=body.text
    )


@router.post(
    "/requests/{requestId}/medicalAdvice",
    operation_id="addMedicalAdvice",
    summary="INAMI's medical inspector records its medical advice on a request and the advice's non-medical "
    "conclusion for the social expert",
    description="The advice (`text`) is health data: the medical inspector and the insurer's physicians read it. "
    "The `conclusion` (`compatible`, `notCompatible`, `compatibleWithConditions`) and the optional "
    "`conclusionRemarks` (no medical information) are what INAMI's social expert, who asked for the advice, reads "
    "on the request as `medicalConclusion` (deliberation 26/060 §49–50). Recording it again replaces both.",
    response_model=RequestOut,
    responses=CHANGE_PROBLEMS,
)
async def add_medical_advice(
    request_id: RequestId, body: MedicalAdviceIn, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    return await _act(
        request_id,
        RequestAction.ADD_MEDICAL_ADVICE,
        request,
        session,
        guard,
        body=body,
        text=body.text,
        conclusion=body.conclusion,
        conclusion_remarks=body.conclusion_remarks,
    )


MERGE_PATCH = "application/merge-patch+json"


@router.patch(
    "/requests/{requestId:uuid}",
    operation_id="amendRequest",
    summary="The requester amends a request INAMI has not decided (JSON merge patch of its content)",
    description="A JSON merge patch (RFC 7396, `application/merge-patch+json`; `application/json` is read the same "
    "way) of the request's training project, trainings, insurer contacts and reference advisor, with the "
    "request's `ETag` in `If-Match`. Each amendment is a new version (new `ETag`); the content it replaces is kept. "
    "Changing the trainings or their cost on a regional service's training request the insurer validated voids "
    "the validation: the request waits for the insurer again. Every addressee is told (`requestChanged`). A patch "
    "that changes nothing is no new version. The type, the person, the registration form and health data are not "
    "amendable (400 `unknownInput`); a request decided, refused or withdrawn is 409.",
    response_model=RequestOut,
    responses=CHANGE_PROBLEMS,
    openapi_extra={
        "requestBody": {"content": {MERGE_PATCH: {"schema": {"$ref": "#/components/schemas/RequestAmendment"}}}}
    },
)
async def amend_request(
    request_id: RequestId, body: RequestAmendment, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    operation = "amendRequest"
    earlier = await idempotency.earlier(body.model_dump(mode="json", by_alias=True, exclude_unset=True))
    if earlier is not None:
        return earlier.answer(await _read_again(session, guard, request_id, operation))
    found, dossier = await service.load(
        session, guard, request_id, action=Action.CONTRIBUTE_TO_DOSSIER, operation=operation
    )
    require_if_match(request, found.version)
    amended = await service.amend(
        session,
        guard,
        request.app.state.registry,
        found,
        dossier,
        body,
        lang=language(request.headers.get("accept-language")),
    )
    return await idempotency.remember(await _answer(session, guard, amended), amended.id)


@router.post(
    "/requests/{requestId}/extensions",
    operation_id="extendRequest",
    summary="The party that runs an approved trajectory asks for its extension (a new request linked to it)",
    description="A new request of the same type, on the same registration form, with `extends` naming the approved "
    "request; it follows the route of any request (a regional service's training waits for the insurer's "
    "validation, everything else goes to INAMI) and INAMI decides it like any other. Only the requester of the "
    "approved request (in a role that may ask) extends it (403); a request that is not approved is 409; a "
    "registration form no longer valid is 409 `registrationFormNotValid`.",
    status_code=201,
    response_model=RequestOut,
    responses={
        403: problem_response("Only the party that runs the trajectory extends it."),
        409: problem_response("The request is not approved, or its registration form is no longer valid."),
    },
)
async def extend_request(
    request_id: RequestId, body: ExtensionIn, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    earlier = await idempotency.earlier(body.model_dump(mode="json", by_alias=True))
    if earlier is not None and earlier.resource_id is not None:
        return earlier.answer(await _read_again(session, guard, earlier.resource_id, "extendRequest", location=True))
    created = await service.extend(
        session,
        guard,
        request.app.state.registry,
        request_id,
        body,
        lang=language(request.headers.get("accept-language")),
    )
    return await idempotency.remember(await _answer(session, guard, created, 201, location=True), created.id)
