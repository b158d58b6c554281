"""INAMI's weekly decision rounds, decision lists (JSON or CSV), hours reports and hours lists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from rp_api.authz.person_guard import GuardedList, GuardedPerson
from rp_api.db import DbSession
from rp_api.i18n import language
from rp_api.idempotency import Idempotency
from rp_api.identifiers import IsoDate, IsoDateTime
from rp_api.responses import ModelResponse
from rp_api.routers import api_router, problem_response
from rp_api.schemas.request import (
    MONTH_PATTERN,
    WEEK_PATTERN,
    DecisionList,
    DecisionRoundIn,
    DecisionRoundOut,
    HoursList,
    HoursReportIn,
)
from rp_api.services import decisions as service
from rp_api.services import hours

router = api_router(tags=["Decisions and hours"])
BATCH_PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: problem_response("The caller's organisation or role may not do this."),
    409: problem_response(
        "An item cannot be applied (`urn:problem-type:rp:batchItemRefused`, with `items`); nothing was."
    ),
}


@router.post(
    "/decisionRounds",
    operation_id="recordDecisionRound",
    summary="INAMI records a weekly round of decisions, all of them or none",
    status_code=201,
    response_model=DecisionRoundOut,
    responses=BATCH_PROBLEMS,
)
async def record_round(body: DecisionRoundIn, request: Request, session: DbSession, guard: GuardedPerson) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    earlier = await idempotency.earlier(body.model_dump(mode="json", by_alias=True))
    if earlier is not None and earlier.resource_id is not None:
        again = await service.read_round(session, guard, earlier.resource_id, operation="recordDecisionRound")
        return earlier.answer(ModelResponse(again))
    recorded = await service.record_round(
        session, guard, request.app.state.registry, body, lang=language(request.headers.get("accept-language"))
    )
    return await idempotency.remember(ModelResponse(recorded, status_code=201), recorded.id)


@router.get(
    "/decisions",
    operation_id="listDecisions",
    summary="The decision list of the caller's organisation, by ISO week, date range or changedSince (JSON, or CSV)",
    description=(
        "Give exactly one of `week`, `from`/`to` (decision dates, either or both) or `changedSince` (decisions taken "
        "at or after that moment), else 400. Each line: the decision (outcome, approved amount, period, INAMI's "
        "motivation), the request (type, training project, trainings' providers, titles and dates, total cost) and "
        "the person's name from the National Register (null when it could not be read for that line). No health "
        "data, whoever asks. `Accept: text/csv` gives the same lines with the same columns, flat: `trainings` "
        'become `providers` and `trainingTitles`, each joined with "; "; the next page is in the `Link` header.'
    ),
    response_model=DecisionList,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The list."}},
)
async def list_decisions(
    request: Request,
    session: DbSession,
    guard: GuardedList,
    week: Annotated[str | None, Query(pattern=WEEK_PATTERN, description="ISO week, e.g. 2026-W47.")] = None,
    decided_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    decided_to: Annotated[IsoDate | None, Query(alias="to")] = None,
    changed_since: Annotated[
        IsoDateTime | None,
        Query(
            alias="changedSince",
            description="Decisions taken at or after this moment (ISO 8601; without an offset, UTC), e.g. "
            "2026-11-20T00:00:00Z.",
        ),
    ] = None,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=500)] = 100,
    page: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    decisions = await service.decision_list(
        session,
        guard,
        week=week,
        decided_from=decided_from,
        decided_to=decided_to,
        changed_since=changed_since,
        page=page,
        page_size=page_size,
        self_link=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )
    if "text/csv" in request.headers.get("accept", ""):
        headers = {"Link": f'<{decisions.next}>; rel="next"'} if decisions.next else {}
        return Response(service.as_csv(decisions), media_type="text/csv; charset=utf-8", headers=headers)
    return ModelResponse(decisions)


@router.post(
    "/hoursReports",
    operation_id="reportHours",
    summary="A regional service reports hours performed per training and month (a correction is a new version)",
    response_model=HoursList,
    responses=BATCH_PROBLEMS,
)
async def report_hours(body: HoursReportIn, request: Request, session: DbSession, guard: GuardedPerson) -> Response:
    idempotency = Idempotency(request, session, guard.principal)
    earlier = await idempotency.earlier(body.model_dump(mode="json", by_alias=True))
    if earlier is not None:
        return earlier.answer(ModelResponse(await hours.read_reported(session, guard, body)))
    reported = await hours.report_hours(session, guard, body, lang=language(request.headers.get("accept-language")))
    return await idempotency.remember(ModelResponse(reported))


@router.get(
    "/hoursLists",
    operation_id="listHours",
    summary="The hours list of the caller's organisation for a month (current versions)",
    response_model=HoursList,
)
async def list_hours(
    request: Request,
    session: DbSession,
    guard: GuardedList,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="e.g. 2027-01")],
) -> Response:
    listed = await hours.hours_list(session, guard, month=month, self_link=f"{request.url.path}?month={month}")
    return ModelResponse(listed)
