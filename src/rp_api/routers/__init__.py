"""Thin HTTP endpoints. Every router is made by :func:`api_router`, so each new endpoint inherits the
JSON-only body rule and the documented problem answers without having to ask for them (the input problems,
400, 413 and 415, are added to the description of every operation that takes input, by rp_api.openapi)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter

from rp_api.limits import JsonApiRoute
from rp_api.problems import PROBLEM_MEDIA_TYPE
from rp_api.schemas.problem import Problem

API_PREFIX = "/rp/v1"


def problem_response(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}


COMMON_PROBLEMS: dict[int | str, dict[str, Any]] = {
    500: problem_response("Unexpected error; no detail is disclosed."),
}


AUTHENTICATION_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: problem_response("No access token (`noAccessToken`), or an invalid or expired one."),
    403: problem_response("The token's organisation or role may not use API RP (`missingPermission`)."),
}


def api_router(**kwargs: Any) -> APIRouter:
    responses = {**COMMON_PROBLEMS, **kwargs.pop("responses", {})}
    return APIRouter(route_class=JsonApiRoute, responses=responses, **kwargs)


def authenticated_root(*routers: APIRouter, open_to_auditors: Sequence[APIRouter] = ()) -> APIRouter:
    """``/rp/v1``: every router mounted here requires a principal, whether or not its endpoints ask for one, and
    one that holds a working role (not only ``auditor``) unless it is listed in ``open_to_auditors``."""
    from fastapi import Depends

    from rp_api.authz.guard import authenticate, refuse_audit_only

    root = APIRouter(
        prefix=API_PREFIX,
        route_class=JsonApiRoute,
        dependencies=[Depends(authenticate)],
        responses=AUTHENTICATION_PROBLEMS,
    )
    for router in open_to_auditors:
        root.include_router(router)
    for router in routers:
        root.include_router(router, dependencies=[Depends(refuse_audit_only)])
    return root
