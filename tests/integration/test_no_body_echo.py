"""No problem document repeats a body value: bodies carry SSINs and health data (README, "Conventions").

The test walks every operation of the app's OpenAPI document that takes a JSON body and, starting from the
schema's own example (a valid body), puts a bad value in each field in turn: wrong type, too long, against the
pattern, format or enum, an unknown member, a value that passes the schema but not the service's own checks (an
SSIN or enterprise number with a bad check number, a future week in a decision round, a future month in an hours
report, a cursor that is not one). Every value carries a marker; no problem answer may carry the marker, nor an
issue a ``value`` (path, query and header values may still be echoed: they are not body values).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rp_api.handlers import issue_from_pydantic
from rp_api.problems import INVALID_INPUT, SCHEMA_VIOLATION, BadRequest, InputIssue
from rp_api.schemas.request import MONTH_PATTERN, WEEK_PATTERN
from tests.token_factory import TokenFactory

Path = tuple[str | int, ...]

# Who sends each operation: any working role gets past authentication to the body's validation; the service's own
# checks need the role the operation is for.
CALLERS: dict[str, tuple[str, list[str]]] = {
    "queryAuditEvents": ("INAMI", ["auditor"]),
    "recordDecisionRound": ("INAMI", ["socialExpert"]),
    "reportHours": ("VDAB", ["referenceAdvisor"]),
}
DEFAULT_CALLER = ("Solidaris", ["medicalAdvisor", "returnToWorkCoordinator"])

# Values that pass the schema's pattern but not the service: (pattern, value, what the service must answer).
SEMANTIC: dict[str, str] = {
    r"^\d{11}$": "85073003329",  # an SSIN with a bad check number
    r"^[01]\d{9}$": "0411159047",  # an enterprise number with a bad check number
    WEEK_PATTERN: "2999-W07",  # a future week (decision rounds)
    MONTH_PATTERN: "2999-11",  # a future month (hours reports)
}
# Those the service must refuse with a 400 naming the field, wherever they are sent.
MUST_REFUSE = {"85073003329", "0411159047"}
# And per operation, the field a semantic value must be refused in (a 400 naming it).
MUST_REFUSE_IN = {("recordDecisionRound", "week"): "2999-W07", ("reportHours", "items[0].month"): "2999-11"}


@dataclass(frozen=True)
class Case:
    operation: str
    method: str
    path: str
    field: str
    kind: str
    body: Any
    marker: str | None  # the text that must not come back (None: only "no value member" is checked)
    must_be_400: bool
    must_name: str | None = None  # an issue must name this field


class Markers:
    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def text(self) -> str:
        return f"Echo{next(self._numbers):05d}Zq"

    def date(self) -> str:
        return f"{1000 + next(self._numbers):04d}-02-30"

    def number(self, above: float) -> float:
        return above * 10 + next(self._numbers) + 0.5


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _options(schema: dict[str, Any], doc: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema, doc)
    if "anyOf" in schema:
        return [_resolve(option, doc) for option in schema["anyOf"] if option.get("type") != "null"]
    return [schema]


def _valid(schema: dict[str, Any], doc: dict[str, Any]) -> Any:
    """A valid value: the schema's example, its empty lists given one valid item."""
    options = _options(schema, doc)
    option = options[0]
    if option.get("examples"):
        value = copy.deepcopy(option["examples"][0])
    elif option.get("type") == "object":
        value = {}
    elif option.get("type") == "array":
        value = []
    else:
        raise AssertionError(f"no example to start from: {option}")
    if isinstance(value, dict):
        for name, sub in option.get("properties", {}).items():
            if value.get(name) == []:
                items = _options(sub, doc)[0].get("items")
                if items is not None:
                    value[name] = [_valid(items, doc)]
    if isinstance(value, list) and not value and option.get("items"):
        value = [_valid(option["items"], doc)]
    return value


def _fields(schema: dict[str, Any], doc: dict[str, Any], at: Path = ()) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every node of the schema, with its path in the body (arrays at index 0), once per alternative type."""
    for option in _options(schema, doc):
        yield at, option
        if option.get("type") == "object":
            for name, sub in option.get("properties", {}).items():
                yield from _fields(sub, doc, (*at, name))
        elif option.get("type") == "array" and "items" in option:
            yield from _fields(option["items"], doc, (*at, 0))


def _pointer(at: Path) -> str:
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _put(body: Any, at: Path, value: Any, schema: dict[str, Any], doc: dict[str, Any]) -> Any:
    """``body`` with ``value`` at ``at`` (missing containers on the way made valid from their schemas)."""
    if not at:
        return value
    body = copy.deepcopy(body)
    node, node_schema = body, schema
    for depth, part in enumerate(at):
        option = next(o for o in _options(node_schema, doc) if o.get("type") in ("object", "array"))
        sub = option["properties"][part] if isinstance(part, str) else option["items"]
        if depth == len(at) - 1:
            node[part] = value
            break
        if isinstance(part, str):
            if not isinstance(node.get(part), dict | list):
                node[part] = _valid(sub, doc)
        elif not node:
            node.append(_valid(sub, doc))
        node, node_schema = node[part], sub
    return body


def _bad_values(option: dict[str, Any], markers: Markers) -> Iterator[tuple[str, Any, str | None, bool]]:
    """(kind, value, marker, must be refused by the schema) for one alternative of a field."""
    kind = option.get("type")
    if kind == "string":
        marker = markers.text()
        yield "wrong type", [marker], marker, True
        if "maxLength" in option:
            marker = markers.text()
            yield "too long", marker + "x" * option["maxLength"], marker, True
        if option.get("minLength", 0) > 0:
            yield "too short", "", None, True
        pattern = option.get("pattern")
        if pattern:
            marker = markers.text()
            assert not re.search(pattern, marker)
            yield "against the pattern", marker, marker, True
            if pattern in SEMANTIC:
                yield "semantic", SEMANTIC[pattern], SEMANTIC[pattern], SEMANTIC[pattern] in MUST_REFUSE
        if option.get("format") in ("date", "date-time"):
            date = markers.date()
            yield "bad date", date if option["format"] == "date" else f"{date}T10:00:00Z", date, True
            marker = markers.text()
            yield "not a date", marker, marker, True
        if option.get("format") == "uuid":
            marker = markers.text()
            yield "not a uuid", marker, marker, True
        if "enum" in option:
            marker = markers.text()
            yield "not in the enum", marker, marker, True
        if not pattern and "format" not in option and "enum" not in option:
            marker = markers.text()
            yield "free text", marker, marker, False  # valid: the service's own checks may still refuse it
    elif kind in ("number", "integer"):
        marker = markers.text()
        yield "wrong type", [marker], marker, True
        if "maximum" in option:
            number = markers.number(option["maximum"])
            yield "too large", number, str(number), True
    elif kind == "boolean":
        marker = markers.text()
        yield "wrong type", marker, marker, True
    elif kind == "array":
        marker = markers.text()
        yield "wrong type", marker, marker, True
        if option.get("minItems", 0) > 0:
            yield "too few items", [], None, True
    elif kind == "object":
        marker = markers.text()
        yield "wrong type", [marker], marker, True
        if option.get("additionalProperties") is False:
            marker = markers.text()
            yield "unknown member", {"unexpected": marker}, marker, True


def _cases(doc: dict[str, Any]) -> list[Case]:
    markers = Markers()
    cases: list[Case] = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = content["application/json"]["schema"]
            base = _valid(schema, doc)
            url = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
            for at, option in _fields(schema, doc):
                for kind, value, marker, refused in _bad_values(option, markers):
                    if not at and kind == "unknown member":
                        value = {**base, "unexpected": marker}
                        body = value
                    else:
                        body = _put(base, at, value, schema, doc)
                    field = _pointer(at)
                    named = MUST_REFUSE_IN.get((operation["operationId"], field)) == value
                    cases.append(
                        Case(
                            operation["operationId"],
                            method,
                            url,
                            field,
                            kind,
                            body,
                            marker,
                            must_be_400=refused or named,
                            must_name=field if named else None,
                        )
                    )
    return cases


def _leaks(case: Case, response: httpx.Response) -> list[str]:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return [f"{response.status_code} is not a problem"] if case.must_be_400 else []
    problem = response.json()
    found = []
    if case.must_be_400 and response.status_code != 400:
        found.append(f"{response.status_code} instead of 400: {problem}")
    for issue in problem.get("issues") or []:
        if "value" in issue and issue.get("in") not in ("path", "query", "header"):
            found.append(f"issue carries a value: {issue}")
        if issue.get("in") == "body" and "`" in str(issue.get("detail", "")):
            found.append(f"issue detail quotes the input: {issue}")
    if case.marker and case.marker in response.text:
        found.append(f"the sent value {case.marker!r} comes back: {problem}")
    if case.must_name and case.must_name not in {issue.get("name") for issue in problem.get("issues") or []}:
        found.append(f"no issue names {case.must_name}: {problem}")
    return found


async def test_no_problem_echoes_a_body_value(app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    doc = app.openapi()
    cases = _cases(doc)
    operations = {case.operation for case in cases}
    with_body = {
        operation["operationId"]
        for operations_of_path in doc["paths"].values()
        for operation in operations_of_path.values()
        if "application/json" in (operation.get("requestBody") or {}).get("content", {})
    }
    assert operations == with_body
    assert {operation for operation, _ in MUST_REFUSE_IN} <= operations

    headers = {
        name: {"Authorization": f"Bearer {tokens.token(org, roles)}"}
        for name, (org, roles) in {**dict.fromkeys(operations, DEFAULT_CALLER), **CALLERS}.items()
    }
    failures = []
    refused = 0
    for case in cases:
        response = await client.request(case.method, case.path, json=case.body, headers=headers[case.operation])
        refused += response.status_code == 400
        failures += [
            f"{case.operation} {case.field or '(body)'} {case.kind}: {leak}" for leak in _leaks(case, response)
        ]
    assert not failures, "\n".join(failures)
    assert refused >= sum(case.must_be_400 for case in cases)


@pytest.mark.parametrize(
    ("operation", "field"), sorted(MUST_REFUSE_IN), ids=lambda value: str(value).replace("[", "_").replace("]", "")
)
async def test_a_future_period_is_refused_without_its_value(
    app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory, operation: str, field: str
) -> None:
    """The issue's own reproducer: a 400 on an hours report (a decision round) named the field and echoed it."""
    doc = app.openapi()
    case = next(c for c in _cases(doc) if (c.operation, c.field, c.kind) == (operation, field, "semantic"))
    org, roles = CALLERS[operation]
    response = await client.request(
        case.method, case.path, json=case.body, headers={"Authorization": f"Bearer {tokens.token(org, roles)}"}
    )
    assert response.status_code == 400, response.text
    issue = next(issue for issue in response.json()["issues"] if issue.get("name") == field)
    assert issue["type"] == INVALID_INPUT
    assert issue["in"] == "body"
    assert "value" not in issue
    assert MUST_REFUSE_IN[(operation, field)] not in response.text


@pytest.mark.parametrize("where", ["body", None])
def test_an_issue_refuses_to_carry_a_body_value(where: Any) -> None:
    with pytest.raises(ValueError, match="never carries"):
        InputIssue(
            INVALID_INPUT, "The month is in the future", None, where, "items[0].month", "2027-01", has_value=True
        )
    with pytest.raises(ValueError, match="never carries"):
        InputIssue(INVALID_INPUT, "The month is in the future", None, where, "items[0].month", "2027-01")


@pytest.mark.parametrize("where", ["path", "query", "header"])
def test_a_parameter_value_may_still_be_echoed(where: Any) -> None:
    issue = InputIssue(SCHEMA_VIOLATION, "Input is not valid", None, where, "week", "2999-W07", has_value=True)
    assert BadRequest([issue]).as_json(None)["issues"][0]["value"] == "2999-W07"


def test_a_parsing_error_does_not_quote_the_body() -> None:
    error = {
        "type": "uuid_parsing",
        "loc": ("body", "upTo"),
        "msg": "Input should be a valid UUID, invalid character: found `Q` at 3",
        "input": "85073003328Q",
        "ctx": {"error": "invalid character: found `Q` at 3"},
    }
    rendered = issue_from_pydantic(error).as_json()
    assert rendered["detail"] == "Input should be a valid UUID"
    assert "value" not in rendered
    in_query = issue_from_pydantic({**error, "loc": ("query", "after")}).as_json()
    assert in_query["value"] == "85073003328Q"
    assert "`Q`" in in_query["detail"]
    assert json.dumps(rendered).count("Q") == 0
