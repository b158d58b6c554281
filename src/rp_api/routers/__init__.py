"""Thin HTTP endpoints. Every router is made by :func:`api_router`, so each new endpoint inherits the
JSON-only body rule and the documented problem answers without having to ask for them (the input problems,
400, 413 and 415, are added to the description of every operation that takes input, by rp_api.openapi)."""

from __future__ import annotations

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


def api_router(**kwargs: Any) -> APIRouter:
    responses = {**COMMON_PROBLEMS, **kwargs.pop("responses", {})}
    return APIRouter(route_class=JsonApiRoute, responses=responses, **kwargs)
