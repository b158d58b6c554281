"""Every error is application/problem+json with a Belgif type and the trace id; nothing internal leaks.

The POST routes here are test probes built with ``api_router()``, the same factory every API RP router uses,
so they exercise exactly the mechanism a real endpoint inherits.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rp_api.routers import api_router
from rp_api.schemas.base import ApiModel
from tests.token_factory import TokenFactory

PROBLEM = "application/problem+json"
SECRET = "85073003328 at db-primary.internal: SELECT * FROM dossier"


class Probe(ApiModel):
    name: str
    hours: int


probe_router = api_router(prefix="/rp/v1/probe")


@probe_router.post("")
async def post_probe(probe: Probe) -> dict[str, str]:
    return {"name": probe.name}


@probe_router.get("/boom")
async def boom() -> None:
    raise RuntimeError(SECRET)


@probe_router.get("/items/{item_id}")
async def item(item_id: str) -> dict[str, str]:
    return {"id": item_id}


@pytest.fixture
async def probe_client(app: FastAPI, client: httpx.AsyncClient) -> httpx.AsyncClient:
    app.include_router(probe_router)
    return client


def assert_problem(response: httpx.Response, status: int, problem_type: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    trace = response.headers["BelGov-Trace-Id"]
    body = response.json()
    assert body["type"] == problem_type
    assert body["status"] == status
    assert body["instance"] == f"urn:uuid:{trace}"
    return body  # type: ignore[no-any-return]


async def test_unknown_route_is_resource_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/rp/v1/nothing")
    assert_problem(response, 404, "urn:problem-type:belgif:resourceNotFound")


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")
    assert_problem(response, 405, "about:blank")
    assert response.headers["Allow"] == "GET"


async def test_a_literal_path_is_not_read_as_an_identifier(client: httpx.AsyncClient) -> None:
    """``/dossiers/query`` (POST) is its own resource, not the dossier with id "query" (found by schemathesis)."""
    for method in ("GET", "OPTIONS", "DELETE"):
        response = await client.request(method, "/rp/v1/dossiers/query")
        assert_problem(response, 405, "about:blank")
        assert response.headers["Allow"] == "POST"


async def test_inputs_schemathesis_found_accepted_or_crashing(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    headers = {"Authorization": f"Bearer {tokens.token('INAMI', ['socialExpert'])}"}
    for path, issue_type, name in (
        ("/rp/v1/decisions?to=0&from=0", "urn:problem-type:belgif:input-validation:schemaViolation", "from"),
        (
            "/rp/v1/statistics?from=0000-01&to=0000-01",
            "urn:problem-type:belgif:input-validation:schemaViolation",
            "from",
        ),
        ("/rp/v1/events?after=0&flter=x", "urn:problem-type:belgif:input-validation:unknownInput", "flter"),
    ):
        response = await client.get(path, headers=headers)
        body = assert_problem(response, 400, "urn:problem-type:belgif:badRequest")
        assert (body["issues"][0]["type"], body["issues"][0]["name"]) == (issue_type, name), path
    dated = await client.post("/rp/v1/dossiers/query", json={"modifiedSince": 0}, headers=headers)
    assert assert_problem(dated, 400, "urn:problem-type:belgif:badRequest")["issues"][0]["name"] == "modifiedSince"


async def test_malformed_json_is_bad_request_with_issue(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/rp/v1/probe", content=b'{"name": "x", ', headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 400, "urn:problem-type:belgif:badRequest")
    assert body["issues"] == [
        {
            "type": "urn:problem-type:belgif:input-validation:schemaViolation",
            "href": "https://www.belgif.be/specification/rest/api-guide/issues/schemaViolation.html",
            "title": "Body is not valid JSON",
            "detail": "The body cannot be parsed as JSON",
            "in": "body",
        }
    ]


async def test_schema_violation_and_unknown_input(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/rp/v1/probe", json={"name": "x", "hours": "many", "colour": "red"})
    body = assert_problem(response, 400, "urn:problem-type:belgif:badRequest")
    issues = {(issue["type"].rsplit(":", 1)[-1], issue["name"]) for issue in body["issues"]}  # type: ignore[attr-defined]
    assert issues == {("schemaViolation", "hours"), ("unknownInput", "colour")}
    assert "many" not in response.text
    assert "red" not in response.text


async def test_valid_body_passes(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/rp/v1/probe", json={"name": "x", "hours": 3})
    assert response.status_code == 200
    assert response.json() == {"name": "x"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
async def test_non_json_body_is_415(probe_client: httpx.AsyncClient, content_type: str) -> None:
    response = await probe_client.post(
        "/rp/v1/probe", content=b'{"name": "x", "hours": 1}', headers={"Content-Type": content_type}
    )
    assert_problem(response, 415, "about:blank")


async def test_json_suffix_media_type_is_accepted(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/rp/v1/probe", content=b'{"name": "x", "hours": 1}', headers={"Content-Type": "application/merge-patch+json"}
    )
    assert response.status_code == 200


async def test_declared_oversized_body_is_413(probe_client: httpx.AsyncClient, app: FastAPI) -> None:
    limit = app.state.settings.max_body_bytes
    response = await probe_client.post(
        "/rp/v1/probe", content=b"x" * (limit + 1), headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 413, "urn:problem-type:belgif:payloadTooLarge")
    assert body["limit"] == limit


async def test_streamed_oversized_body_is_413(probe_client: httpx.AsyncClient, app: FastAPI) -> None:
    limit = app.state.settings.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 1024 + 2):
            yield b" " * 1024

    response = await probe_client.post("/rp/v1/probe", content=chunks(), headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "urn:problem-type:belgif:payloadTooLarge")


async def test_unexpected_error_is_500_without_leak(
    probe_client: httpx.AsyncClient, logged: Callable[[], list[dict[str, Any]]]
) -> None:
    response = await probe_client.get("/rp/v1/probe/boom")
    body = assert_problem(response, 500, "urn:problem-type:belgif:internalServerError")
    for fragment in ("85073003328", "db-primary", "SELECT", "Traceback", "RuntimeError"):
        assert fragment not in response.text
    assert set(body) == {"type", "href", "title", "status", "detail", "instance"}
    lines = logged()
    errors = [line for line in lines if line["event"] == "unhandled_error"]
    assert errors
    assert errors[-1]["error_type"] == "RuntimeError"
    assert "Traceback" in errors[-1]["exception"]  # the frames stay, the message goes
    assert "85073003328" not in repr(lines)
    assert "db-primary" not in repr(lines)


async def test_trace_id_is_fresh_uuid_and_incoming_one_is_related(client: httpx.AsyncClient) -> None:
    first = await client.get("/health", headers={"BelGov-Trace-Id": "caller-trace-42"})
    second = await client.get("/health")
    ids = [uuid.UUID(r.headers["BelGov-Trace-Id"]) for r in (first, second)]
    assert ids[0] != ids[1]
    assert first.headers["BelGov-Related-Trace-Id"] == "caller-trace-42"
    assert "BelGov-Related-Trace-Id" not in second.headers


async def test_unacceptable_incoming_trace_is_not_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"BelGov-Trace-Id": "x" * 37})
    assert "BelGov-Related-Trace-Id" not in response.headers


async def test_trace_id_is_bound_into_the_request_log(
    client: httpx.AsyncClient, logged: Callable[[], list[dict[str, Any]]]
) -> None:
    response = await client.get("/rp/v1/nothing?ssin=85073003328")
    lines = [line for line in logged() if line["event"] == "request"]
    assert lines, "no access log line"
    line = lines[-1]
    assert line["trace_id"] == response.headers["BelGov-Trace-Id"]
    assert line["status"] == 404
    assert line["logger"] == "rp_api.access"
    assert line["level"] == "info"
    assert "85073003328" not in repr(line)


async def test_access_log_gives_the_route_template(
    probe_client: httpx.AsyncClient, logged: Callable[[], list[dict[str, Any]]]
) -> None:
    response = await probe_client.get("/rp/v1/probe/items/opaque-id-77")
    assert response.status_code == 200
    lines = [line for line in logged() if line["event"] == "request"]
    assert lines[-1]["path"] == "/rp/v1/probe/items/{item_id}"
