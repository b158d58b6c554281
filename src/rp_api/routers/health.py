"""``GET /health``: UP when the database answers, DOWN (503) when it does not."""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import JSONResponse

from rp_api.db import database_answers
from rp_api.routers import api_router
from rp_api.schemas.health import Health

router = api_router(tags=["Monitoring"])

HEALTH_CHECK_TIMEOUT_S = 2.0


@router.get(
    "/health",
    operation_id="checkHealth",
    summary="Health of the service",
    description="`UP` (200) when the database answers within 2 seconds, `DOWN` (503, the same document) when it does "
    "not; never cached (`Cache-Control: no-store`). For load balancers and the orchestrator's readiness and liveness "
    "probes; it names nobody and needs no token.",
    response_model=Health,
    responses={503: {"model": Health, "description": "The service is down: its database does not answer."}},
)
async def check_health(request: Request) -> JSONResponse:
    try:
        up = await asyncio.wait_for(database_answers(request.app.state.engine), HEALTH_CHECK_TIMEOUT_S)
    except TimeoutError:
        up = False
    return JSONResponse(
        Health(status="UP" if up else "DOWN").model_dump(mode="json"),
        status_code=200 if up else 503,
        headers={"Cache-Control": "no-store"},
    )
