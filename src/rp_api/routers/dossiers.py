"""Dossiers: find by SSIN in the body (created only for whoever starts a trajectory), read, list those the caller's
organisation takes part in, and close one explicitly."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import Response

from rp_api.authz.links import LinkResolver
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import GuardedList, GuardedPerson
from rp_api.db import DbSession
from rp_api.domain.dossier_creation import Start
from rp_api.i18n import language
from rp_api.idempotency import Idempotency
from rp_api.preconditions import etag, require_if_match
from rp_api.responses import ModelResponse
from rp_api.routers import api_router, problem_response
from rp_api.schemas.dossier import DossierClose, DossierOpen, DossierOut, DossierPage, DossierQuery
from rp_api.services import dossiers
from rp_api.urls import API_PREFIX

router = api_router(
    tags=["Dossiers"],
    responses={
        404: problem_response("No such dossier or person, or one the caller may not see (404 before 403)."),
        502: problem_response("An authentic source answered garbage: access denied (`badGateway`)."),
        503: problem_response("An authentic source does not answer: access denied (`serviceUnavailable`)."),
    },
)
DossierId = Annotated[uuid.UUID, Path(alias="dossierId", description="The dossier's opaque id.")]


@router.post(
    "/dossiers",
    operation_id="openDossier",
    summary="Find the person's dossier; create it when the caller starts a trajectory",
    description="Without `start`, a lookup: the person's dossier (200), or 404 `resourceNotFound` when there is "
    "none, for everyone (a lookup never creates a dossier). With `start` (`registrationForm` or `request`), the caller "
    "starts a trajectory: the dossier is created when there is none (201) or answered as it is (200), for the roles "
    "that may create a registration form (insurers, a prevention service's occupational physician, a regional "
    "service's reference advisor) or submit a request without one (an insurer's medical advisor or return-to-work "
    "coordinator); any other role gets 403. Never for a deceased person (404). The SSIN travels in the body, never "
    "in a URL. Accepts `Idempotency-Key` (a replay reads the dossier again, as the caller may see it now). The person "
    "is found under any of their SSINs: an SSIN the National Register replaced leads a caller linked to the person "
    "under the current SSIN to the person's one dossier, shown under the current SSIN (a dossier still stored under "
    "an earlier SSIN moves to it, so starting a trajectory under the new SSIN never creates a second one); anyone else "
    "gets 404 as for an unlinked person.",
    status_code=200,
    response_model=DossierOut,
    responses={
        201: {"model": DossierOut, "description": "The caller starts a trajectory: the dossier was created."},
        400: problem_response("Invalid SSIN (`badRequest` with an `invalidStructure` issue)."),
        403: problem_response(
            "The caller's role may not start this trajectory, or reads lists only (`missingPermission`)."
        ),
    },
)
async def open_dossier(body: DossierOpen, request: Request, session: DbSession, guard: GuardedPerson) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    earlier = await idempotency.earlier(body.model_dump(mode="json", by_alias=True, exclude_none=True))
    if earlier is not None and earlier.resource_id is not None:
        # A replay reads the dossier again, as the caller may see it now (guard, view and audit as for any read).
        contents = await dossiers.load_with_contents(session, earlier.resource_id)
        view = await dossiers.read_dossier(guard, _resolver(request), _registry(request), contents, "openDossier")
        return earlier.answer(ModelResponse(view, headers=_headers(contents.dossier.id, contents.dossier.version)))
    start = Start(body.start) if body.start is not None else None
    dossier, created = await dossiers.open_dossier(session, guard, body.ssin, start)
    contents = await dossiers.load_with_contents(session, dossier.id)
    view = await dossiers.read_dossier(guard, _resolver(request), _registry(request), contents, already_checked=True)
    response = ModelResponse(view, status_code=201 if created else 200, headers=_headers(dossier.id, dossier.version))
    return await idempotency.remember(response, dossier.id)


def _headers(dossier_id: uuid.UUID, version: int) -> dict[str, str]:
    return {"Location": f"{API_PREFIX}/dossiers/{dossier_id}", "ETag": etag(version)}


def _resolver(request: Request) -> LinkResolver:
    resolver: LinkResolver = request.app.state.link_resolver
    return resolver


def _registry(request: Request) -> OrganisationRegistry:
    registry: OrganisationRegistry = request.app.state.registry
    return registry


@router.get(
    # ``:uuid`` keeps ``/dossiers/query`` (POST only) from being read as a dossier id: GET on it is a 405.
    "/dossiers/{dossierId:uuid}",
    operation_id="getDossier",
    summary="The dossier as the caller may see it",
    description="The person (National Register), the insurer (MemberData), the employers and their prevention "
    "services (Dimona, SEED-Connect), the regional services where the person is registered with the dates "
    "(JobSeeker), whether a TRIO dossier exists, and the forms and requests the caller may read — each block as "
    "the visibility table gives it to the caller's roles. A source used only to show a block that fails gives the "
    "dossier with that block `null` and the source in `unavailableSources`. Answers the dossier's `ETag` "
    "(for `close`).",
    response_model=DossierOut,
)
async def get_dossier(dossier_id: DossierId, request: Request, session: DbSession, guard: GuardedPerson) -> Response:
    contents = await dossiers.load_with_contents(session, dossier_id)
    view = await dossiers.read_dossier(guard, _resolver(request), _registry(request), contents)
    return ModelResponse(view, headers={"ETag": etag(contents.dossier.version)})


@router.post(
    "/dossiers/query",
    operation_id="queryDossiers",
    summary="The dossiers the caller's organisation takes part in",
    description="The dossiers the caller's organisation takes part in (it created or was addressed something in "
    "them), by `modifiedSince` and `status` (`active`, `closed`), in keyset pages (`pageSize` 1-100, `page`: the "
    "sealed `next` of the previous page). Each line gives the dossier's id, status, person's SSIN and last change. "
    "Every working role may ask; an auditor's or a list manager's token is 403.",
    response_model=DossierPage,
)
async def query_dossiers(query: DossierQuery, session: DbSession, guard: GuardedList) -> Response:
    page = await dossiers.query_dossiers(session, guard, query, f"{API_PREFIX}/dossiers/query")
    return ModelResponse(page)


@router.post(
    "/dossiers/{dossierId}/close",
    operation_id=dossiers.CLOSE,
    summary="Close the dossier (the person's insurer or INAMI); a new form or request reopens it",
    description="The person's insurer (medical advisor, return-to-work coordinator) or INAMI (social expert) closes "
    "the dossier: it is `closed` (with `closedAt` and `closedBy`) whatever its forms and requests say, until a new "
    "registration form or request is created in it. Requires `If-Match` with the dossier's `ETag`; accepts "
    "`Idempotency-Key` (a replay reads the dossier again, as the caller may see it now). The optional `reason` is "
    "not kept. Answers the dossier as `GET` shows it, with its new `ETag`.",
    response_model=DossierOut,
    responses={
        403: problem_response("The caller's organisation or role may not close a dossier (`missingPermission`)."),
        409: problem_response("The dossier is closed already (`urn:problem-type:rp:transitionNotAllowed`)."),
        412: problem_response("The dossier changed since you read it: read it again (`If-Match`)."),
        428: problem_response("`If-Match` with the dossier's `ETag` is required."),
    },
)
async def close_dossier(
    dossier_id: DossierId,
    request: Request,
    session: DbSession,
    guard: GuardedPerson,
    body: DossierClose | None = None,
) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    earlier = await idempotency.earlier(body.model_dump(mode="json", by_alias=True, exclude_none=True) if body else {})
    if earlier is not None:
        # A replay reads the dossier again, as the caller may see it now (guard, view and audit as for any read).
        contents = await dossiers.load_with_contents(session, dossier_id)
        view = await dossiers.read_dossier(guard, _resolver(request), _registry(request), contents, dossiers.CLOSE)
        return earlier.answer(ModelResponse(view, headers={"ETag": etag(contents.dossier.version)}))
    found = await dossiers.load_for_closing(session, guard, dossier_id)
    require_if_match(request, found.dossier.version)
    lang = language(request.headers.get("accept-language"))
    contents = await dossiers.close_dossier(session, guard, found.dossier, lang=lang)
    view = await dossiers.read_dossier(
        guard, _resolver(request), _registry(request), contents, dossiers.CLOSE, already_checked=True
    )
    response = ModelResponse(view, headers={"ETag": etag(contents.dossier.version)})
    return await idempotency.remember(response, contents.dossier.id)
