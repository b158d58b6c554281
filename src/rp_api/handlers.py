"""Exception handlers: framework errors are translated into :mod:`rp_api.problems` and rendered once."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from rp_api import problems
from rp_api.problems import (
    ECHOED_LOCATIONS,
    INVALID_STRUCTURE,
    SCHEMA_VIOLATION,
    UNKNOWN_INPUT,
    BadRequest,
    InputIssue,
    IssueLocation,
    Problem,
)
from rp_api.tracing import trace_id_of

_LOCATIONS: dict[str, IssueLocation] = {"body": "body", "path": "path", "query": "query", "header": "header"}


def _pointer(parts: tuple[int | str, ...]) -> str:
    """``("trainings", 0, "hours")`` → ``trainings[0].hours``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def issue_from_pydantic(error: dict[str, Any]) -> InputIssue:
    """One pydantic error as a Belgif issue.

    Values are echoed for path, query and header parameters only. Bodies carry SSINs and health data, so a body
    issue names the offending field but never repeats what was sent, not even a character of it in the detail
    (:class:`rp_api.problems.InputIssue` refuses a body value).
    """
    loc: tuple[int | str, ...] = tuple(error.get("loc", ()))
    where = _LOCATIONS.get(str(loc[0])) if loc else None
    name = _pointer(loc[1:]) if where else _pointer(loc)
    kind = error.get("type", "")
    if kind == "json_invalid":
        return InputIssue(SCHEMA_VIOLATION, "Body is not valid JSON", "The body cannot be parsed as JSON", "body")
    if kind == "extra_forbidden":
        return InputIssue(UNKNOWN_INPUT, "Unknown input", f"{name} is not part of the schema", where, name)
    issue_type = INVALID_STRUCTURE if kind.startswith("invalid_structure") else SCHEMA_VIOLATION
    title = "Invalid structure" if issue_type == INVALID_STRUCTURE else "Input is not valid for the schema"
    echo = where in ECHOED_LOCATIONS
    return InputIssue(
        issue_type,
        title,
        _detail(error, quote_input=echo),
        where,
        name or None,
        error.get("input") if echo else None,
        has_value=echo,
    )


def _detail(error: dict[str, Any], *, quote_input: bool) -> str:
    """pydantic's message. Its limits (``ctx``) are kept; a parsing error that quotes part of the input in backticks
    (``Input should be a valid UUID, invalid character: found `x` at 3``) keeps only its first clause unless the
    input may be echoed."""
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if quote_input or "`" not in message:
        return message
    first = message.partition(", ")[0]
    return first if "`" not in first else "Invalid value"


def _allowed_methods(request: Request) -> str:
    """The methods of the documented resource the request's path names (Starlette names those of the first route
    whose pattern matches: ``/dossiers/query`` would be answered with the methods of ``/dossiers/{dossierId}``)."""
    app = request.app
    templates: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(app.state, "method_templates", None)
    if templates is None:
        templates = [
            (
                re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"),
                frozenset(method.upper() for method in operations),
            )
            for path, operations in app.openapi().get("paths", {}).items()
        ]
        app.state.method_templates = templates
    path = request.url.path
    matching = [(pattern, allowed) for pattern, allowed in templates if pattern.match(path)]
    # A literal path (``/dossiers/query``) is its own resource, not an instance of ``/dossiers/{dossierId}``.
    literal = [allowed for pattern, allowed in matching if "[^/]+" not in pattern.pattern]
    chosen = literal or [allowed for _, allowed in matching]
    return ", ".join(sorted({method for allowed in chosen for method in allowed}))


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problems.render(exc, trace_id_of(request.scope))


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    issues = [issue_from_pydantic(dict(error)) for error in exc.errors()]
    return problems.render(BadRequest(issues), trace_id_of(request.scope))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    problem: Problem
    if exc.status_code == 404:
        problem = problems.ResourceNotFound()
    elif exc.status_code == 405:
        problem = problems.MethodNotAllowed(_allowed_methods(request) or (exc.headers or {}).get("Allow", ""))
    elif exc.status_code == 415:
        problem = problems.UnsupportedMediaType()
    elif exc.status_code == 400:
        problem = BadRequest([], detail="The request cannot be read")
    else:
        problem = problems.HttpStatusProblem(exc.status_code)
    return problems.render(problem, trace_id_of(request.scope))


def install(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
