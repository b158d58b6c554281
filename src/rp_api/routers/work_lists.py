"""Work lists: the requests and registration forms that wait for the caller's organisation."""

from __future__ import annotations

from fastapi.responses import Response

from rp_api.authz.person_guard import GuardedList
from rp_api.db import DbSession
from rp_api.responses import ModelResponse
from rp_api.routers import api_router, problem_response
from rp_api.schemas.work_list import FormWorkList, FormWorkListQuery, RequestWorkList, RequestWorkListQuery
from rp_api.services import work_lists
from rp_api.urls import API_PREFIX

router = api_router(
    tags=["Work lists"],
    responses={
        403: problem_response(
            "The caller's role may not ask for this queue, or the token is an auditor's (`missingPermission`)."
        ),
        502: problem_response("An authentic source answered garbage for a line: the page is refused (`badGateway`)."),
        503: problem_response(
            "An authentic source does not answer for a line: the page is refused (`serviceUnavailable`)."
        ),
    },
)

# ``/requests/{requestId:uuid}`` and ``/registrationForms/{formId:uuid}`` (their routers) take only ids, so these two
# literal paths are never read as one: GET on them is a 405.


@router.post(
    "/requests/query",
    operation_id="queryRequests",
    summary="The requests addressed to the caller's organisation (its work list), by status, type or queue",
    description="The requests work routing addressed to the caller's organisation (requester, the person's insurer, "
    "the regional services where the person is registered, the prevention service whose physician wrote the form, "
    "INAMI once a request reaches it), oldest change first, in keyset pages (`pageSize` 1-100, `page`: the sealed "
    "`next` of the previous page). Filters combine: `status`, `type`, `changedSince`, `createdFrom`/`createdTo` and "
    "a `queue` naming one party's next step (`awaitingInsurerValidation`, `atInami`, `awaitingMedicalAdvice` — the "
    "insurer's physicians and INAMI's medical inspector only, else 403). Each line is the request as "
    "`GET /requests/{requestId}` shows it to the caller, plus the person (`ssin`, name), without health data for "
    "anyone. Every working role may ask; an auditor's or a list manager's token is 403.",
    response_model=RequestWorkList,
)
async def query_requests(query: RequestWorkListQuery, session: DbSession, guard: GuardedList) -> Response:
    page = await work_lists.query_requests(session, guard, query, f"{API_PREFIX}/requests/query")
    return ModelResponse(page)


@router.post(
    "/registrationForms/query",
    operation_id="queryRegistrationForms",
    summary="The registration forms addressed to the caller's organisation that it may read (its work list)",
    description="The forms work routing addressed to the caller's organisation that it may read (a draft only to its "
    "creator; a regional service the valid forms and its own; a prevention service only the forms its physician "
    "created), oldest change first, in keyset pages (`pageSize` 1-100, `page`: the sealed `next` of the previous "
    "page). Filters combine: `status`, `routing`, `changedSince`, `createdFrom`/`createdTo` and a `queue` "
    "(`awaitingTargetGroupDecision` — the insurer's medical advisor, multidisciplinary team and coordinator; "
    "`registeredWithMe` — regional services; else 403). Each line is the form as `GET /registrationForms/{formId}` "
    "shows it to the caller, plus the person, without health data for anyone. Every working role may ask; an "
    "auditor's or a list manager's token is 403.",
    response_model=FormWorkList,
)
async def query_registration_forms(query: FormWorkListQuery, session: DbSession, guard: GuardedList) -> Response:
    page = await work_lists.query_forms(session, guard, query, f"{API_PREFIX}/registrationForms/query")
    return ModelResponse(page)
