"""The person's consents on a dossier (formulaire de consentement, deliberation 26/060 §63): record, list, read,
withdraw."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import Response

from rp_api.authz.person_guard import GuardedPerson, PersonGuard
from rp_api.db import DbSession
from rp_api.domain.consent import ConsentAction
from rp_api.i18n import language
from rp_api.idempotency import Idempotency
from rp_api.models.dossier import Consent
from rp_api.preconditions import etag, require_if_match
from rp_api.responses import ModelResponse
from rp_api.routers import api_router, problem_response
from rp_api.schemas.consent import ConsentIn, ConsentList, ConsentOut
from rp_api.services import consents as service
from rp_api.services import dossiers
from rp_api.urls import API_PREFIX

router = api_router(
    tags=["Consents"],
    responses={
        404: problem_response("No such consent or dossier, or one the caller may not see (404 before 403)."),
        502: problem_response("An authentic source answered garbage: access denied (`badGateway`)."),
        503: problem_response("An authentic source does not answer: access denied (`serviceUnavailable`)."),
    },
)
DossierId = Annotated[uuid.UUID, Path(alias="dossierId", description="The dossier's opaque id.")]
ConsentId = Annotated[uuid.UUID, Path(alias="consentId", description="The consent's opaque id.")]
WHO = (
    "Who may: record — the insurer's medical advisor, multidisciplinary team and return-to-work coordinator, and the "
    "occupational physician of a prevention service linked to the person; withdraw — those, the insurer's "
    "administrative, and the physician's nurse and medical secretariat; read — those, the regional service's "
    "reference advisor and INAMI (social expert, medical inspector). Anyone else linked to the person gets 403 "
    "`missingPermission`, an organisation not linked to it 404."
)


def _answer(guard: PersonGuard, consent: Consent, status: int = 200, *, location: bool = False) -> Response:
    headers = {"ETag": etag(consent.version)}
    if location:
        headers["Location"] = f"{API_PREFIX}/consents/{consent.id}"
    return ModelResponse(service.view(consent, guard.principal), status_code=status, headers=headers)


async def _read_again(
    session: DbSession, guard: PersonGuard, consent_id: uuid.UUID, operation: str, *, location: bool = False
) -> Response:
    """An idempotent replay: the consent read again, as the caller may see it now (guard and audit)."""
    consent, _ = await service.load(session, guard, consent_id, operation=operation)
    return _answer(guard, consent, location=location)


@router.post(
    "/dossiers/{dossierId}/consents",
    operation_id=service.RECORD,
    summary="Record the consent the person gave on the consent form",
    description="The person's consent, as signed on the consent form (§63): its scope, the form's version and the "
    "day it was signed (not after today); the caller's organisation and role are kept as who recorded it. What "
    "needs it — the occupational physician's registration form, a prevention service's conversations with a "
    "regional service — is refused with 409 `urn:problem-type:rp:consentRequired` until a consent of its scope is "
    "in force, and again once it is withdrawn. One consent of a scope is in force at a time (409 "
    "`urn:problem-type:rp:transitionNotAllowed` while one is). Accepts `Idempotency-Key` (a replay reads the "
    "consent again, as the caller may see it now). Recording is a change of the dossier (its retention clock); it "
    "is not told through the change feed. " + WHO,
    status_code=201,
    response_model=ConsentOut,
    responses={
        400: problem_response("Unknown scope, bad form version, or a form signed after today (`badRequest`)."),
        403: problem_response("The caller's role may not record a consent (`missingPermission`)."),
        409: problem_response("A consent of this scope is in force already (`…rp:transitionNotAllowed`)."),
    },
)
async def record_consent(
    dossier_id: DossierId, body: ConsentIn, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    earlier = await idempotency.earlier(body.model_dump(mode="json", by_alias=True))
    if earlier is not None and earlier.resource_id is not None:
        return earlier.answer(await _read_again(session, guard, earlier.resource_id, service.RECORD, location=True))
    dossier = await dossiers.load(session, dossier_id)
    lang = language(request.headers.get("accept-language"))
    consent = await service.record(session, guard, dossier, body, lang=lang, now=datetime.now(UTC))
    return await idempotency.remember(_answer(guard, consent, 201, location=True), consent.id)


@router.get(
    "/dossiers/{dossierId}/consents",
    operation_id=service.LIST,
    summary="The dossier's consents, withdrawn ones too",
    description="Every consent recorded on the dossier, oldest first, with `inForce`. " + WHO,
    response_model=ConsentList,
    responses={403: problem_response("The caller's role may not read consents (`missingPermission`).")},
)
async def list_consents(dossier_id: DossierId, session: DbSession, guard: GuardedPerson) -> Response:
    dossier = await dossiers.load(session, dossier_id)
    return ModelResponse(await service.of_dossier(session, guard, dossier))


@router.get(
    "/consents/{consentId}",
    operation_id=service.GET,
    summary="A consent",
    description=WHO,
    response_model=ConsentOut,
    responses={403: problem_response("The caller's role may not read consents (`missingPermission`).")},
)
async def get_consent(consent_id: ConsentId, session: DbSession, guard: GuardedPerson) -> Response:
    consent, _ = await service.load(session, guard, consent_id, operation=service.GET)
    return _answer(guard, consent)


@router.post(
    "/consents/{consentId}/withdraw",
    operation_id=service.WITHDRAW,
    summary="Record the person's withdrawal of a consent",
    description="From now on, what the consent allowed is refused again (409 `urn:problem-type:rp:consentRequired`) "
    "until a new consent of its scope is recorded. Requires `If-Match` with the consent's `ETag`; accepts "
    "`Idempotency-Key`. " + WHO,
    response_model=ConsentOut,
    responses={
        403: problem_response("The caller's role may not withdraw a consent (`missingPermission`)."),
        409: problem_response("The consent is withdrawn already (`urn:problem-type:rp:transitionNotAllowed`)."),
        412: problem_response("The consent changed since you read it: read it again (`If-Match`)."),
        428: problem_response("`If-Match` with the consent's `ETag` is required."),
    },
)
async def withdraw_consent(
    consent_id: ConsentId, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    earlier = await idempotency.earlier({})
    if earlier is not None:
        return earlier.answer(await _read_again(session, guard, consent_id, service.WITHDRAW))
    consent, dossier = await service.load(
        session, guard, consent_id, operation=service.WITHDRAW, to=ConsentAction.WITHDRAW
    )
    require_if_match(request, consent.version)
    lang = language(request.headers.get("accept-language"))
    withdrawn = await service.withdraw(session, guard, consent, dossier, lang=lang)
    return await idempotency.remember(_answer(guard, withdrawn), withdrawn.id)
