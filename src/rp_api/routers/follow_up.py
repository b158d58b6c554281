"""The follow-up of decided trajectories: a step recorded by the party that runs the trajectory, a request's
follow-up, and the follow-up lists (JSON or CSV)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import Response

from rp_api.authz.person_guard import GuardedList, GuardedPerson
from rp_api.db import DbSession
from rp_api.i18n import language
from rp_api.idempotency import Idempotency
from rp_api.identifiers import IsoDate, IsoDateTime
from rp_api.responses import ModelResponse, list_answer, self_link
from rp_api.routers import PageCursor, PageSize, api_router, problem_response
from rp_api.schemas.follow_up import FollowUpHistory, FollowUpIn, FollowUpList, FollowUpOut
from rp_api.services import follow_up as service

router = api_router(
    tags=["Follow-up"],
    responses={
        404: problem_response("No such request or step, or one the caller may not see (404 before 403)."),
        502: problem_response("An authentic source answered garbage: access denied (`badGateway`)."),
        503: problem_response("An authentic source does not answer: access denied."),
    },
)
RequestId = Annotated[uuid.UUID, Path(alias="requestId")]
FollowUpId = Annotated[uuid.UUID, Path(alias="followUpId")]


def _created(step: FollowUpOut, status_code: int = 201) -> Response:
    return ModelResponse(step, status_code=status_code, headers={"Location": step.self_})


@router.post(
    "/requests/{requestId}/followUps",
    operation_id="recordFollowUp",
    summary="The party that runs an approved trajectory records a step of it: started, interrupted, resumed, ended",
    description=(
        "Recorded by the request's requester, in a role that may ask (the regional service's reference advisor for "
        "the trainings it asked for, the insurer's medical advisor or coordinator for its own): anyone else who may "
        "see the request gets 403. Steps follow each other: `started` first, `interrupted` (with a `reason`) only "
        "while it runs, `resumed` only after an interruption, `ended` (with a `result`) while it runs or is "
        "interrupted, nothing after it; each dated not in the future, not before the previous step, and within the "
        "approved period give or take 31 days. Otherwise 409 `transitionNotAllowed` (or 400 for the input itself). "
        "Coded values only, no free text: a step carries no health data. A step is a change of the dossier and a "
        "`followUpRecorded` event for the request's other addressees."
    ),
    status_code=201,
    response_model=FollowUpOut,
    responses={
        403: problem_response("The caller does not run the trajectory (it is not the requester, or not in a role "
                              "that may ask)."),
        409: problem_response(
            "The step does not follow (`urn:problem-type:rp:transitionNotAllowed`): the request is not approved, "
            "the trajectory's state does not allow it, or its date is before the previous step or outside the period."
        ),
    },
)  # fmt: skip
async def record_follow_up(
    request_id: RequestId, body: FollowUpIn, request: Request, session: DbSession, guard: GuardedPerson
) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    earlier = await idempotency.earlier(body.model_dump(mode="json", by_alias=True))
    if earlier is not None and earlier.resource_id is not None:
        again = await service.read_one(session, guard, request_id, earlier.resource_id, operation="recordFollowUp")
        return earlier.answer(_created(again))
    step = await service.record(
        session,
        guard,
        request.app.state.registry,
        request_id,
        body,
        lang=language(request.headers.get("accept-language")),
    )
    return await idempotency.remember(_created(service.out(step)), step.id)


@router.get(
    "/requests/{requestId}/followUps",
    operation_id="getFollowUps",
    summary="A request's follow-up: its steps in the order they were recorded, and where the trajectory stands",
    description=(
        "For every party that may read the request (a prevention service: the requests made on its own forms; "
        "anyone else 404). `state` is what the steps lead to: `notStarted` (none yet), `running`, `interrupted` or "
        "`ended`. Coded values only: no health data."
    ),
    response_model=FollowUpHistory,
)
async def get_follow_ups(request_id: RequestId, session: DbSession, guard: GuardedPerson) -> Response:
    return ModelResponse(await service.history_of(session, guard, request_id, operation="getFollowUps"))


@router.get(
    "/requests/{requestId}/followUps/{followUpId}",
    operation_id="getFollowUp",
    summary="One step of a request's follow-up",
    description=(
        "The `Location` of a recorded step, for every party that may read the request; a step of another request is "
        "404, like an unknown one."
    ),
    response_model=FollowUpOut,
)
async def get_follow_up(
    request_id: RequestId, follow_up_id: FollowUpId, session: DbSession, guard: GuardedPerson
) -> Response:
    return ModelResponse(await service.read_one(session, guard, request_id, follow_up_id, operation="getFollowUp"))


@router.get(
    "/followUps",
    operation_id="listFollowUps",
    summary="The follow-up list of the caller's organisation, by a range of step dates or changedSince (JSON, or CSV)",
    description=(
        "Give `from`/`to` (the steps' dates, either or both; in date order) or `changedSince` (steps recorded at or "
        "after that moment; in recording order), not both, else 400. The steps of the requests addressed to the "
        "caller's organisation (INAMI: all). Each line: the step (event, date, reason, result, who recorded it), "
        "its request (id, type), the person (SSIN, and the name from the National Register, null when it could not "
        "be read for that line). No health data, whoever asks. Each line's person is checked again with the "
        "caller's current links (a line it may no longer see is left out), one audit record per person. "
        "`Accept: text/csv` gives the same lines with the same columns, flat (`ssin`, `givenName`, `familyName`, "
        "`recordedBy`, `recordedByRole`); the next page is in the `Link` header."
    ),
    response_model=FollowUpList,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The list."}},
)
async def list_follow_ups(
    request: Request,
    session: DbSession,
    guard: GuardedList,
    occurred_from: Annotated[
        IsoDate | None, Query(alias="from", description="Steps on or after this day, e.g. 2027-01-01.")
    ] = None,
    occurred_to: Annotated[IsoDate | None, Query(alias="to", description="Steps on or before this day.")] = None,
    changed_since: Annotated[
        IsoDateTime | None,
        Query(
            alias="changedSince",
            description="Steps recorded at or after this moment (ISO 8601; without an offset, UTC), e.g. "
            "2027-02-01T00:00:00Z.",
        ),
    ] = None,
    page_size: PageSize = 100,
    page: PageCursor = None,
) -> Response:
    listed = await service.follow_up_list(
        session,
        guard,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        changed_since=changed_since,
        page=page,
        page_size=page_size,
        self_link=self_link(request),
    )
    return list_answer(request, listed, service.as_csv)
