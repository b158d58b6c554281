"""What an operation reads and answers besides its parameters and body, found in its code: the HTTP headers it reads
(``If-Match``, ``Idempotency-Key``, ``Accept-Language``), the response headers it sets (``ETag``, ``Location``,
``Link``, ``Idempotent-Replayed``) and the problems it may raise. :mod:`rp_api.openapi` documents each operation from
it, so that a new endpoint is documented as it is written, with no list to keep.

How: :func:`reach` reads the source of the endpoint and of its dependencies, and follows every call it can resolve
without running anything (a name of the function's module, an attribute of a module or a class) into the functions
and classes of API RP, transitively. It records:

- a call of a **header primitive** (:data:`REQUEST_HEADER_PRIMITIVES`), the few functions and classes that read a
  request header: whoever calls one reads that header (``tests/integration/test_contract.py`` fails when any other
  code of API RP reads one of those headers without reaching its primitive);
- a response header written as a literal (``{"ETag": …}``, ``headers["Location"] = …``);
- the construction of a :class:`rp_api.problems.Problem` class (its examples in the description).

Calls through an instance (``guard.sift(…)``) are not followed: the person guard's 403, 404, 502 and 503 are
documented by the routers that use it.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import textwrap
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext

from rp_api import problems
from rp_api.i18n import language
from rp_api.idempotency import HEADER as IDEMPOTENCY_KEY
from rp_api.idempotency import REPLAYED, Idempotency
from rp_api.preconditions import require_if_match

IF_MATCH = "If-Match"
ACCEPT_LANGUAGE = "Accept-Language"
ETAG = "ETag"
LOCATION = "Location"
LINK = "Link"

REQUEST_HEADER_PRIMITIVES: dict[object, tuple[str, ...]] = {
    require_if_match: (IF_MATCH, ACCEPT_LANGUAGE),
    Idempotency: (IDEMPOTENCY_KEY, ACCEPT_LANGUAGE),
    language: (ACCEPT_LANGUAGE,),
}
"""The code that reads a documented request header (its problems' titles are in the caller's language too)."""

RESPONSE_HEADER_PRIMITIVES: dict[object, tuple[str, ...]] = {Idempotency: (REPLAYED,)}
"""The code that sets a documented response header other than by its literal name."""

RESPONSE_HEADER_LITERALS = frozenset({ETAG, LOCATION, LINK})
"""Response headers recognised where the code writes them by name."""

DOCUMENTED_REQUEST_HEADERS = frozenset(header for names in REQUEST_HEADER_PRIMITIVES.values() for header in names)


@dataclass
class Reach:
    """What a piece of code reads, sets and raises, its callees included."""

    request_headers: set[str] = field(default_factory=set)
    response_headers: set[str] = field(default_factory=set)
    problems: set[type[problems.Problem]] = field(default_factory=set)
    functions: set[object] = field(default_factory=set)
    """Every function and class followed."""


@dataclass(frozen=True)
class _Direct:
    """What one function or class does itself, and what it calls."""

    request_headers: frozenset[str] = frozenset()
    response_headers: frozenset[str] = frozenset()
    problems: frozenset[type[problems.Problem]] = frozenset()
    callees: tuple[object, ...] = ()


def reach(route: APIRoute | RouteContext) -> Reach:
    """What the route's endpoint and its dependencies read, set and raise (the person guard's answers included)."""
    calls = list(_calls_of(route.dependant))
    found = reach_of(*calls)
    for call in calls:
        found.problems |= _guard_problems().get(call, frozenset())
    return found


@cache
def _guard_problems() -> dict[object, frozenset[type[problems.Problem]]]:
    """What the person guard answers, by the dependency that gives it (its checks are calls on the instance, which
    :func:`reach_of` does not follow): for a call naming a person, 404 for an organisation not linked to it (404
    before 403), 403 for a role that may not, 503/502 for a source failing; for a list,
    503/502 for a source failing for one of the page's persons."""
    from rp_api.authz.person_guard import GuardedList, GuardedPerson

    failing = frozenset({problems.ServiceUnavailable, problems.BadGateway})
    named = failing | {problems.ResourceNotFound, problems.MissingPermission}
    return {
        typing.get_args(GuardedPerson)[1].dependency: named,
        typing.get_args(GuardedList)[1].dependency: failing,
    }


def reach_of(*targets: object) -> Reach:
    """What these functions or classes read, set and raise, through every call that can be followed."""
    found = Reach()
    seen: set[int] = set()
    pending = list(targets)
    while pending:
        target = pending.pop()
        if id(target) in seen:
            continue
        seen.add(id(target))
        found.functions.add(target)
        direct = _direct(target)
        found.request_headers |= direct.request_headers
        found.response_headers |= direct.response_headers
        found.problems |= direct.problems
        pending.extend(direct.callees)
    return found


def _calls_of(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls_of(sub)


OWN_PACKAGES: tuple[str, ...] = ("rp_api",)
"""Whose code is read and followed (the frameworks' is not)."""


def _ours(value: object) -> bool:
    module = str(getattr(value, "__module__", "") or "")
    return any(module == package or module.startswith(f"{package}.") for package in OWN_PACKAGES)


def forget() -> None:
    """Read the code again at the next call (after :data:`OWN_PACKAGES` changed)."""
    _direct.cache_clear()


@cache
def _direct(target: object) -> _Direct:
    """What a function (or a class, through its ``__init__``) does itself: a header primitive and a problem class are
    leaves."""
    if target in REQUEST_HEADER_PRIMITIVES or target in RESPONSE_HEADER_PRIMITIVES:
        return _Direct(
            frozenset(REQUEST_HEADER_PRIMITIVES.get(target, ())), frozenset(RESPONSE_HEADER_PRIMITIVES.get(target, ()))
        )
    if inspect.isclass(target):
        if issubclass(target, problems.Problem):
            return _Direct(problems=frozenset({target}))
        init = target.__dict__.get("__init__")
        return _Direct(callees=(init,)) if init is not None and _ours(init) else _Direct()
    body = _body(target)
    if body is None:
        return _Direct()
    namespace = _namespace(target)
    headers: set[str] = set()
    callees: list[object] = []
    raised: set[type[problems.Problem]] = set()
    for node in body:
        for child in ast.walk(node):
            headers.update(_header_literals(child))
            if isinstance(child, ast.Call):
                callee = _resolve(child.func, namespace)
                if callee is not None:
                    callees.append(callee)
            elif isinstance(child, ast.Name | ast.Attribute) and isinstance(child.ctx, ast.Load):
                # a problem class named without being called here (``problem = A if … else B; raise problem(…)``)
                named = _resolve(child, namespace)
                if inspect.isclass(named) and issubclass(named, problems.Problem):
                    raised.add(named)
    return _Direct(response_headers=frozenset(headers), problems=frozenset(raised), callees=tuple(callees))


def _body(function: object) -> list[ast.stmt] | None:
    """The statements of an API RP function (not its decorators), or None when it is not one of ours."""
    function = inspect.unwrap(function) if callable(function) else function
    if not (inspect.isfunction(function) and _ours(function)):
        return None
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):  # generated code (dataclasses' __init__) has no source
        return None
    tree = ast.parse(source)
    definition = tree.body[0]
    if not isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    return definition.body


def _namespace(function: object) -> dict[str, Any]:
    function = inspect.unwrap(function)  # type: ignore[arg-type]
    names: dict[str, Any] = dict(vars(builtins))
    names.update(getattr(function, "__globals__", {}))
    with contextlib.suppress(TypeError, ValueError):
        names.update(inspect.getclosurevars(function).nonlocals)  # type: ignore[arg-type]
    return names


def _resolve(expression: ast.expr, namespace: dict[str, Any]) -> object | None:
    """The object a call names, when it is a name of the function's module or an attribute of a module or class."""
    if isinstance(expression, ast.Name):
        value = namespace.get(expression.id)
    elif isinstance(expression, ast.Attribute):
        owner = _resolve(expression.value, namespace)
        if not (inspect.ismodule(owner) or inspect.isclass(owner)):
            return None
        try:
            value = inspect.getattr_static(owner, expression.attr)
        except AttributeError:
            return None
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
    else:
        return None
    if value is None or not (inspect.isfunction(value) or inspect.isclass(value) or inspect.ismodule(value)):
        return None
    return value


def _header_literals(node: ast.AST) -> Iterable[str]:
    """Response header names written as literals: dictionary keys and subscripts (``headers["Location"]``)."""
    if isinstance(node, ast.Dict):
        return [name for key in node.keys if (name := _header_literal(key)) is not None]
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
        name = _header_literal(node.slice)
        return [name] if name is not None else []
    return []


def _header_literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in RESPONSE_HEADER_LITERALS:
        return node.value
    return None


# ------------------------------------------------------------------------------------------------ problem examples
EXAMPLE_TRACE_ID = "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b"

_SAMPLES: dict[type[problems.Problem], Callable[[], problems.Problem]] = {
    problems.BadRequest: lambda: problems.BadRequest(
        [
            problems.InputIssue(
                problems.SCHEMA_VIOLATION,
                "Input is not valid for the schema",
                "Input should be a valid date or datetime, input is too short",
                "body",
                "incapacityStartDate",
            ),
            problems.InputIssue(
                problems.UNKNOWN_INPUT, "Unknown input", "pagesize is not a query parameter", "query", "pagesize"
            ),
        ]
    ),
    problems.PayloadTooLarge: lambda: problems.PayloadTooLarge(1_048_576),
    problems.MethodNotAllowed: lambda: problems.MethodNotAllowed("GET, POST"),
    problems.HttpStatusProblem: lambda: problems.HttpStatusProblem(406),
    problems.ConsentRequired: lambda: problems.ConsentRequired("occupationalPhysicianContact"),
    problems.ItemsRefused: lambda: problems.ItemsRefused(
        [{"name": "decisions[0].requestId", "reason": "the request is approved, not atInami"}]
    ),
}


def sample(problem_class: type[problems.Problem]) -> problems.Problem:
    """An instance of a problem class, for its example (classes that take arguments have theirs above)."""
    make = _SAMPLES.get(problem_class)
    return make() if make is not None else problem_class()


GENERIC: dict[int, tuple[type[problems.Problem], ...]] = {
    400: (problems.BadRequest,),
    401: (problems.NoAccessToken, problems.InvalidAccessToken, problems.ExpiredAccessToken),
    403: (problems.MissingPermission,),
    404: (problems.ResourceNotFound,),
    405: (problems.MethodNotAllowed,),
    409: (problems.TransitionNotAllowed,),
    412: (problems.PreconditionFailed,),
    413: (problems.PayloadTooLarge,),
    415: (problems.UnsupportedMediaType,),
    422: (problems.IdempotencyKeyReused,),
    428: (problems.PreconditionRequired,),
    500: (problems.InternalServerError,),
    502: (problems.BadGateway,),
    503: (problems.ServiceUnavailable,),
}
"""The problem(s) every operation answering a status may give with it. A conflict (409) is exemplified by the
conflicts the operation's own code raises, this one only when none is found."""


def problems_for(status: int, reached: Iterable[type[problems.Problem]]) -> list[problems.Problem]:
    """The problems an operation answers with this status: those its code raises, and the generic ones."""
    raised = [instance for instance in (sample(cls) for cls in reached) if instance.status == status]
    generic = [sample(cls) for cls in GENERIC.get(status, ())]
    if status == 409 and raised:
        generic = []
    chosen: dict[str, problems.Problem] = {}
    for instance in [*generic, *sorted(raised, key=lambda p: p.type)]:
        chosen.setdefault(example_name(instance), instance)
    return list(chosen.values())


def example_name(problem: problems.Problem) -> str:
    """``resourceNotFound`` for a Belgif or API RP type; the title in lowerCamelCase for ``about:blank``."""
    if problem.type == "about:blank":
        words = problem.title.replace("-", " ").split()
        return words[0].lower() + "".join(word.capitalize() for word in words[1:])
    return problem.type.rsplit(":", 1)[-1]


def example(problem: problems.Problem) -> dict[str, Any]:
    return {"summary": problem.title, "value": problem.as_json(EXAMPLE_TRACE_ID)}
