"""Thin HTTP endpoints. Every router is made by :func:`api_router`, so each new endpoint inherits the
JSON-only body rule, the unit of work and the documented problem answers without having to ask for them (the
input problems, 400, 413 and 415, are added to the description of every operation that takes input, by
rp_api.openapi)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.responses import Response

from rp_api.authz.guard import OPERATION, PERSON_NAMED_CALL, refuse_audit_only
from rp_api.authz.person_guard import PERSON_NAMED
from rp_api.db import unit_of_work
from rp_api.limits import ensure_json_body, query_parameters, refuse_unknown_query_parameters
from rp_api.problems import PROBLEM_MEDIA_TYPE
from rp_api.schemas.problem import Problem
from rp_api.urls import API_PREFIX

PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=500)]
"""The lines of a list page (decisions, hours, follow-up): 1 to 500, 100 by default at each list."""
PageCursor = Annotated[str | None, Query(max_length=200)]
"""``page``: the ``next`` of the page before (a sealed cursor, :mod:`rp_api.cursors`)."""


def problem_response(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}


COMMON_PROBLEMS: dict[int | str, dict[str, Any]] = {
    500: problem_response("Unexpected error; no detail is disclosed."),
}


AUTHENTICATION_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: problem_response("No access token (`noAccessToken`), or an invalid or expired one."),
    403: problem_response("The token's organisation or role may not use API RP (`missingPermission`)."),
}


class ApiRoute(APIRoute):
    """The route class of every API RP router: refuses undeclared query parameters and checks the media type
    before FastAPI reads the body, then runs the call (its dependencies, the endpoint, the response) in the
    request's unit of work (:func:`rp_api.db.unit_of_work`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known = query_parameters(self.dependant)
        person_named = _names_a_person(self.dependant)
        operation = self.operation_id

        async def in_unit_of_work(request: Request) -> Response:
            refuse_unknown_query_parameters(request, known)
            ensure_json_body(request)
            request.scope[OPERATION] = operation
            if person_named:
                request.scope[PERSON_NAMED_CALL] = True
            async with unit_of_work(request) as work:
                try:
                    response = await handler(request)
                except Exception:
                    if person_named:
                        refuse_audit_only(request)  # an auditor gets 403, whatever else went wrong
                    raise
                if person_named:
                    refuse_audit_only(request)  # fail closed, should a path have skipped the guard
                work.answered(response.status_code)
                return response

        return in_unit_of_work


def _names_a_person(dependant: Dependant) -> bool:
    """Whether the endpoint depends on the guard of a named person (see rp_api.authz.person_guard)."""
    return any(getattr(sub.call, PERSON_NAMED, False) or _names_a_person(sub) for sub in dependant.dependencies)


def api_router(**kwargs: Any) -> APIRouter:
    responses = {**COMMON_PROBLEMS, **kwargs.pop("responses", {})}
    return APIRouter(route_class=ApiRoute, responses=responses, **kwargs)


def include_authenticated(
    parent: FastAPI | APIRouter, *routers: APIRouter, open_to_auditors: Sequence[APIRouter] = ()
) -> None:
    """Mount the routers under ``/rp/v1``: every endpoint requires a principal, whether or not it asks for one,
    and one that holds a working role (not only ``auditor``) unless its router is listed in ``open_to_auditors``.

    Each router is included directly, not under a common ``/rp/v1`` router: FastAPI matches a request through every
    level of included routers, and the extra level cost ~7 % of a warm dossier GET."""
    from fastapi import Depends

    from rp_api.authz.guard import authenticate, authenticate_working_role

    for router in open_to_auditors:
        parent.include_router(
            router, prefix=API_PREFIX, dependencies=[Depends(authenticate)], responses=AUTHENTICATION_PROBLEMS
        )
    for router in routers:
        parent.include_router(
            router,
            prefix=API_PREFIX,
            dependencies=[Depends(authenticate_working_role)],
            responses=AUTHENTICATION_PROBLEMS,
        )
