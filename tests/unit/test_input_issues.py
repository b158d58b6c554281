"""How pydantic's validation errors become Belgif issues (table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from rp_api.handlers import issue_from_pydantic
from rp_api.problems import INVALID_STRUCTURE, SCHEMA_VIOLATION, UNKNOWN_INPUT, BadRequest, InputIssue

CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"type": "json_invalid", "loc": ("body", 12), "msg": "JSON decode error", "input": {}},
        {"type": SCHEMA_VIOLATION, "in": "body", "title": "Body is not valid JSON"},
    ),
    (
        {"type": "extra_forbidden", "loc": ("body", "nickname"), "msg": "Extra inputs", "input": "Bob"},
        {"type": UNKNOWN_INPUT, "in": "body", "name": "nickname"},
    ),
    (
        {"type": "missing", "loc": ("body", "trainings", 0, "hours"), "msg": "Field required", "input": {}},
        {"type": SCHEMA_VIOLATION, "in": "body", "name": "trainings[0].hours", "detail": "Field required"},
    ),
    (
        {"type": "int_parsing", "loc": ("query", "pageSize"), "msg": "Input should be a valid integer", "input": "x"},
        {"type": SCHEMA_VIOLATION, "in": "query", "name": "pageSize", "value": "x"},
    ),
    (
        {"type": "invalid_structure", "loc": ("body", "ssin"), "msg": "Value error, checksum", "input": "1"},
        {"type": INVALID_STRUCTURE, "in": "body", "name": "ssin", "detail": "checksum"},
    ),
]


@pytest.mark.parametrize(("error", "expected"), CASES)
def test_issue_from_pydantic(error: dict[str, Any], expected: dict[str, Any]) -> None:
    rendered = issue_from_pydantic(error).as_json()
    assert {key: rendered.get(key) for key in expected} == expected
    assert rendered["href"].endswith(".html")


@pytest.mark.parametrize("field", ["ssin", "medicalInformation", "nickname"])
def test_body_values_are_never_echoed(field: str) -> None:
    error = {"type": "string_too_long", "loc": ("body", field), "msg": "too long", "input": "85073003328"}
    rendered = issue_from_pydantic(error).as_json()
    assert "value" not in rendered
    assert "85073003328" not in repr(rendered)


def test_bad_request_carries_its_issues() -> None:
    problem = BadRequest([InputIssue(SCHEMA_VIOLATION, "t", in_="query", name="q", value=None, has_value=True)])
    body = problem.as_json("1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b")
    assert body["type"] == "urn:problem-type:belgif:badRequest"
    assert body["status"] == 400
    assert body["instance"] == "urn:uuid:1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b"
    assert body["issues"] == [
        {
            "type": SCHEMA_VIOLATION,
            "href": "https://www.belgif.be/specification/rest/api-guide/issues/schemaViolation.html",
            "title": "t",
            "in": "query",
            "name": "q",
            "value": None,
        }
    ]
