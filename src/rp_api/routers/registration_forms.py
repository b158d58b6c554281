"""Registration forms (formulaire d'inscription, AMF) on a dossier, and their life cycle."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import Response

from rp_api.authz.person_guard import GuardedPerson, PersonGuard
from rp_api.db import DbSession
from rp_api.domain.forms import FormAction
from rp_api.domain.policy import Action
from rp_api.i18n import language
from rp_api.idempotency import Idempotency
from rp_api.preconditions import etag, require_if_match
from rp_api.responses import ModelResponse
from rp_api.routers import api_router, problem_response
from rp_api.schemas.registration_form import (
    FormContent,
    RegistrationFormList,
    RegistrationFormOut,
    TargetGroupDecisionIn,
)
from rp_api.services import dossiers
from rp_api.services import registration_forms as forms
from rp_api.urls import API_PREFIX

router = api_router(
    tags=["Registration forms"],
    responses={
        404: problem_response("No such form or dossier, or one the caller may not see (404 before 403)."),
        503: problem_response("An authentic source does not answer: access denied."),
    },
)
DossierId = Annotated[uuid.UUID, Path(alias="dossierId")]
FormId = Annotated[uuid.UUID, Path(alias="formId")]
_FORM_ID = "3f0c7c9e-4d8a-4c1b-9f6e-2a9d8e7c6b5a"
NEW_DRAFT_EXAMPLE: dict[str, Any] = {
    "id": _FORM_ID,
    "dossierId": "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a",
    "routing": "standard",
    "status": "draft",
    "createdBy": {"enterpriseNumber": "0411159046", "type": "insurer", "role": "medicalAdvisor"},
    "createdAt": "2026-11-20T09:00:00Z",
    "updatedAt": "2026-11-20T09:00:00Z",
    "incapacityAtLeastOneYear": True,
    "expectations": "Training in logistics",
    "incapacityStartDate": "2025-01-10",
    "physicianQuestion": {"expectations": "Job coaching", "functionalCapacities": "No lifting"},
    "self": f"/rp/v1/registrationForms/{_FORM_ID}",
}
"""What ``createRegistrationForm`` answers (201): a new form is a draft, seen here by the médecin-conseil who wrote
it."""
CHANGE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: problem_response(
        "Only the creating organisation (or, for the target-group decision, the insurer) may do this."
    ),
    409: problem_response(
        "Not possible in the form's current state (`urn:problem-type:rp:…`, title in your language)."
    ),
    412: problem_response("The form changed since you read it: read it again (`If-Match`)."),
    428: problem_response("`If-Match` with the form's `ETag` is required."),
}


def _answer(guard: PersonGuard, form: Any, status: int = 200, *, location: bool = False) -> Response:
    headers = {"ETag": etag(form.version)}
    if location:
        headers["Location"] = f"{API_PREFIX}/registrationForms/{form.id}"
    return ModelResponse(forms.view(guard, form), status_code=status, headers=headers)


@router.post(
    "/dossiers/{dossierId}/registrationForms",
    operation_id="createRegistrationForm",
    summary="Start a registration form (insurer, occupational physician, or a regional service for routing C)",
    description="Starts a draft registration form (formulaire d'inscription) in the dossier; only the creating "
    "organisation sees a draft, until it submits it. Who may: the person's insurer (medical advisor, "
    "multidisciplinary team, return-to-work coordinator, administrative), the occupational physician of a "
    "prevention service linked to the person (once the person's consent is in force, 409 "
    "`urn:problem-type:rp:consentRequired` before), and a regional service's reference advisor (routing C: the "
    "insurer then decides whether the person belongs to the target group); any other role 403. A field the caller's "
    "role may not write (health data: `incapacityStartDate`, `physicianQuestion.functionalCapacities`, written by "
    "physicians only) is refused with 400 naming it; nothing is written. Accepts `Idempotency-Key`; answers the "
    "form with its `ETag` and `Location`.",
    status_code=201,
    response_model=RegistrationFormOut,
    responses={
        201: {"description": "The new form, a draft.", "content": {"application/json": {"example": NEW_DRAFT_EXAMPLE}}},
        403: problem_response("The caller's role may not create a registration form."),
        409: problem_response(
            "An occupational physician's form needs the person's consent in force on the dossier "
            "(`urn:problem-type:rp:consentRequired`, see `POST /dossiers/{dossierId}/consents`)."
        ),
    },
)
async def create_form(
    dossier_id: DossierId, content: FormContent, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    earlier = await idempotency.earlier(content.model_dump(mode="json", by_alias=True))
    if earlier is not None and earlier.resource_id is not None:
        return earlier.answer(await _read_again(session, guard, earlier.resource_id, "createRegistrationForm", True))
    dossier = await dossiers.load(session, dossier_id)
    lang = language(request.headers.get("accept-language"))
    content = content.written_by(guard.principal.organisation_type, guard.principal.roles)
    form = await forms.create(session, guard, request.app.state.registry, dossier, content, lang=lang)
    return await idempotency.remember(_answer(guard, form, 201, location=True), form.id)


async def _read_again(
    session: DbSession, guard: PersonGuard, form_id: uuid.UUID, operation: str, location: bool = False
) -> Response:
    """An idempotent replay: the form read again, as the caller may see it now (guard, view and audit)."""
    form, _ = await forms.load_readable(session, guard, form_id, action=Action.CONSULT_DOSSIER, operation=operation)
    return _answer(guard, form, location=location)


@router.get(
    "/dossiers/{dossierId}/registrationForms",
    operation_id="listRegistrationForms",
    summary="The dossier's registration forms the caller may see",
    description="The dossier's forms the caller's organisation may read: a draft only to its creator, a regional "
    "service the valid (submitted) forms and its own, a prevention service only the forms its physician created; "
    "each as `GET /registrationForms/{formId}` shows it.",
    response_model=RegistrationFormList,
)
async def list_forms(dossier_id: DossierId, session: DbSession, guard: GuardedPerson) -> Response:
    dossier = await dossiers.load(session, dossier_id)
    items = await forms.readable_of(session, guard, dossier)
    page = RegistrationFormList(items=items, self_=f"{API_PREFIX}/dossiers/{dossier.id}/registrationForms")
    return ModelResponse(page)


@router.get(
    "/registrationForms/{formId:uuid}",
    operation_id="getRegistrationForm",
    summary="A registration form as the caller may see it",
    description="The form, each field as the visibility table gives it to the caller's roles, with its `ETag` (for "
    "`PUT`, `submit`, `cancel`, `targetGroupDecision`). A form the caller's organisation may not read (another's "
    "draft; for a regional service, a form neither valid nor its own; for a prevention service, a form it did not "
    "create) is 404.",
    response_model=RegistrationFormOut,
)
async def get_form(form_id: FormId, session: DbSession, guard: GuardedPerson) -> Response:
    form, _ = await forms.load_readable(
        session, guard, form_id, action=Action.CONSULT_DOSSIER, operation="getRegistrationForm"
    )
    return _answer(guard, form)


@router.put(
    "/registrationForms/{formId:uuid}",
    operation_id="updateRegistrationForm",
    summary="Replace the content of a draft form (If-Match required)",
    description="The creating organisation (a creator role of it) replaces the content of its draft (409 "
    "`urn:problem-type:rp:formNotDraft` once submitted). Requires `If-Match` with the form's `ETag`. A field the "
    "caller's role may not write is refused with 400 naming it, and nothing is written; left out, it keeps what the "
    "form holds (a coordinator's update leaves the physician's functional capacities as they are).",
    response_model=RegistrationFormOut,
    responses=CHANGE_PROBLEMS,
)
async def update_form(
    form_id: FormId, content: FormContent, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    form, dossier = await forms.load_readable(
        session, guard, form_id, action=Action.CONTRIBUTE_TO_DOSSIER, operation="updateRegistrationForm"
    )
    require_if_match(request, form.version)
    lang = language(request.headers.get("accept-language"))
    content = content.written_by(guard.principal.organisation_type, guard.principal.roles)
    form = await forms.change(
        session, guard, request.app.state.registry, form, dossier, FormAction.UPDATE, lang=lang, content=content
    )
    return _answer(guard, form)


async def _transition(
    form_id: uuid.UUID,
    action: FormAction,
    request: Request,
    session: DbSession,
    guard: PersonGuard,
    decision: TargetGroupDecisionIn | None = None,
) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    operation = f"{action}RegistrationForm"
    earlier = await idempotency.earlier(decision.model_dump(mode="json", by_alias=True) if decision else {})
    if earlier is not None:
        return earlier.answer(await _read_again(session, guard, form_id, operation))
    form, dossier = await forms.load_readable(
        session, guard, form_id, action=Action.CONTRIBUTE_TO_DOSSIER, operation=operation
    )
    require_if_match(request, form.version)
    lang = language(request.headers.get("accept-language"))
    form = await forms.change(
        session, guard, request.app.state.registry, form, dossier, action, lang=lang, decision=decision
    )
    return await idempotency.remember(_answer(guard, form), form.id)


@router.post(
    "/registrationForms/{formId}/submit",
    operation_id="submitRegistrationForm",
    summary="Submit a draft: valid at once, or (routing C) awaiting the insurer's target-group decision",
    description="The creating organisation (a creator role of it) submits its draft: a standard form is valid "
    "(`submitted`) and reaches the person's insurer and the regional services where the person is registered; a "
    "routing C form awaits the insurer's target-group decision. An occupational physician's form needs the "
    "person's consent in force (409 `urn:problem-type:rp:consentRequired`). Requires `If-Match`; accepts "
    "`Idempotency-Key`.",
    response_model=RegistrationFormOut,
    responses=CHANGE_PROBLEMS,
)
async def submit_form(form_id: FormId, request: Request, session: DbSession, guard: GuardedPerson) -> Response:
    return await _transition(form_id, FormAction.SUBMIT, request, session, guard)


@router.post(
    "/registrationForms/{formId}/cancel",
    operation_id="cancelRegistrationForm",
    summary="Cancel a form (its creator)",
    description="The creating organisation (a creator role of it) cancels its form, a draft, a submitted form or "
    "one awaiting the target-group decision (409 `urn:problem-type:rp:transitionNotAllowed` otherwise). Requires "
    "`If-Match`; accepts `Idempotency-Key`.",
    response_model=RegistrationFormOut,
    responses=CHANGE_PROBLEMS,
)
async def cancel_form(form_id: FormId, request: Request, session: DbSession, guard: GuardedPerson) -> Response:
    return await _transition(form_id, FormAction.CANCEL, request, session, guard)


@router.post(
    "/registrationForms/{formId}/targetGroupDecision",
    operation_id="decideTargetGroup",
    summary="Routing C: the insurer decides whether the person belongs to the target group",
    description="The person's insurer (medical advisor, multidisciplinary team, return-to-work coordinator; not its "
    "administrative) decides on a routing C form awaiting it: in the target group, the form is valid (`submitted`); "
    "not, it is `notInTargetGroup`. Requires `If-Match`; accepts `Idempotency-Key`.",
    response_model=RegistrationFormOut,
    responses=CHANGE_PROBLEMS,
)
async def decide_target_group(
    form_id: FormId, decision: TargetGroupDecisionIn, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    return await _transition(form_id, FormAction.DECIDE_TARGET_GROUP, request, session, guard, decision)
