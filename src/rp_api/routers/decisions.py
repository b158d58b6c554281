"""INAMI's weekly decision rounds, decision lists (JSON or CSV), hours reports and hours lists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from rp_api.authz.person_guard import GuardedList, GuardedPerson
from rp_api.db import DbSession
from rp_api.domain.hours import MAX_PERIOD_MONTHS
from rp_api.i18n import language
from rp_api.idempotency import Idempotency
from rp_api.identifiers import IsoDate, IsoDateTime
from rp_api.responses import ModelResponse, list_answer, self_link
from rp_api.routers import PageCursor, PageSize, api_router, problem_response
from rp_api.schemas.hours import HoursList, HoursReportIn
from rp_api.schemas.request import MONTH_PATTERN, WEEK_PATTERN, DecisionList, DecisionRoundIn, DecisionRoundOut
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
    description="INAMI's social expert (`socialExpert`; anyone else 403) records a weekly round of decisions "
    "(`week`, an ISO week not in the future; each decision approves, with an amount and a period, or refuses a "
    "request at INAMI, with a motivation that carries no medical information). All of them or none: an item whose "
    "request is not at INAMI, or that names no request INAMI sees, makes the whole round 409 "
    "`urn:problem-type:rp:batchItemRefused`, its `items` naming each refused item; a duplicate request is 400. "
    "Every addressee of each request, and the person's insurer and regional services as they are now, is told "
    "(`decisionRecorded`); their decision lists show the line. Accepts `Idempotency-Key` (a replay reads the round "
    "again). Answers the round (201), without `Location` (a round has no URL of its own).",
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
    page_size: PageSize = 100,
    page: PageCursor = None,
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
        self_link=self_link(request),
    )
    return list_answer(request, decisions, service.as_csv)


HOURS_PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: problem_response(
        "The caller does not run the training of an item (it is reported by its requester: the regional service for "
        "the trainings it asked for, the insurer for those it asked for without a registration form), or its role "
        "may report nothing; `items` names each such item. Nothing was recorded."
    ),
    404: problem_response(
        "An item names a request the caller may not see (none such, a person it is not linked to); `items` names "
        "each such item. Nothing was recorded."
    ),
    409: problem_response(
        "An item's request is not approved, or has no such training (`urn:problem-type:rp:batchItemRefused`, with "
        "`items`); nothing was recorded."
    ),
}


@router.post(
    "/hoursReports",
    operation_id="reportHours",
    summary="The party that runs a training reports hours performed per training and month (a correction is a new "
    "version)",
    description=(
        "Hours are reported by the party that runs the training: the regional service (its reference advisor) for "
        "the trainings it asked for on a registration form, the insurer (médecin-conseil or return-to-work "
        "coordinator) for those it asked for without one; on approved requests only. All items or none: a request "
        "the caller may not see is 404, one it sees but does not run 403, one not approved or an unknown training "
        "409 (the first of these any item gets; the problem's `items` names each item it refuses). A changed figure "
        "is a new version (the history is kept), the same figure is no change."
    ),
    response_model=HoursList,
    responses=HOURS_PROBLEMS,
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
    summary="The hours list of the caller's organisation, by month or period (current versions; JSON, or CSV)",
    description=(
        "Give exactly one of `month`, or `from` and `to` (months, both included, at most "
        f"{MAX_PERIOD_MONTHS} months), else 400. The current version of each training's hours in each month, of the "
        "requests the caller's organisation is party to (an addressee: its requester, the person's insurer and "
        "regional services, INAMI — which reads every line), in (month, id) order; each line's person re-checked "
        "with the caller's current links (a line it may no longer see is left out, the denial recorded). No health "
        "data. `Accept: text/csv` gives the same lines with the same columns, in the same order; the next page is "
        "in the `Link` header."
    ),
    response_model=HoursList,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The list."}},
)
async def list_hours(
    request: Request,
    session: DbSession,
    guard: GuardedList,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="One month, e.g. 2027-01.")] = None,
    first: Annotated[
        str | None, Query(alias="from", pattern=MONTH_PATTERN, description="A period's first month, e.g. 2027-01.")
    ] = None,
    last: Annotated[
        str | None, Query(alias="to", pattern=MONTH_PATTERN, description="A period's last month, e.g. 2027-06.")
    ] = None,
    page_size: PageSize = 100,
    page: PageCursor = None,
) -> Response:
    listed = await hours.hours_list(
        session,
        guard,
        month=month,
        first=first,
        last=last,
        page=page,
        page_size=page_size,
        self_link=self_link(request),
    )
    return list_answer(request, listed, hours.as_csv)
