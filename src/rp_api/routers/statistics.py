"""``GET /rp/v1/statistics``: anonymous counts of requests for INAMI, small cells suppressed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from rp_api.authz.guard import CurrentPrincipal
from rp_api.db import DbSession
from rp_api.domain.statistics import DEFAULT_THRESHOLD
from rp_api.identifiers import MONTH_WITHIN_CALENDAR
from rp_api.routers import api_router, problem_response
from rp_api.schemas.base import ApiModel
from rp_api.schemas.request import MONTH_PATTERN
from rp_api.services import statistics as service

router = api_router(tags=["Statistics"], responses={403: problem_response("The statistics are INAMI's.")})


class Cell(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"month": "2026-11", "category": "training/approved", "count": 12, "suppressed": False}]
        }
    )

    month: str
    category: str
    count: int | None = Field(description="Absent (null) when suppressed.")
    suppressed: bool


class Statistics(ApiModel):
    """Requests per month of submission: by type and outcome (status), by insurer, by regional service. Every cell
    below the threshold is suppressed, with complementary suppression across the three tables of a month."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "threshold": 5,
                    "from": "2026-01",
                    "to": "2026-12",
                    "byTypeAndOutcome": [],
                    "byInsurer": [],
                    "byRegionalService": [],
                }
            ]
        }
    )

    threshold: int
    from_: str = Field(alias="from")
    to: str
    by_type_and_outcome: list[Cell]
    by_insurer: list[Cell]
    by_regional_service: list[Cell]


@router.get(
    "/statistics",
    operation_id="getStatistics",
    summary="Anonymous statistics of requests (INAMI)",
    description="For INAMI (any working role; another organisation gets 403 `missingPermission`). Requests per month "
    "of submission from `from` to `to` (months, `YYYY-MM`, both included; `to` before `from` is 400), counted by "
    "type and outcome, by insurer and by regional service. No SSIN, no person: every cell below the threshold (5) "
    "is suppressed (`count` null, `suppressed` true), and a month's three tables are suppressed together so that no "
    "suppressed cell can be given back by totals.",
    response_model=Statistics,
)
async def get_statistics(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    first: Annotated[str, Query(alias="from", pattern=MONTH_PATTERN), MONTH_WITHIN_CALENDAR],
    last: Annotated[str, Query(alias="to", pattern=MONTH_PATTERN), MONTH_WITHIN_CALENDAR],
) -> JSONResponse:
    body: dict[str, Any] = await service.tables(
        session, principal, request.app.state.registry, first=first, last=last, threshold=DEFAULT_THRESHOLD
    )
    return JSONResponse(body)
