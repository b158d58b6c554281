"""Schemathesis against the committed OpenAPI document, over real HTTP (uvicorn on 127.0.0.1, its own database),
authenticated as each organisation type: every operation, schemathesis's checks on every answer.

Excluded, with the reason:
- ``positive_data_acceptance`` (a schema-valid request must be accepted): API RP rightly refuses schema-valid
  requests for rules an OpenAPI document cannot state — SSIN and enterprise-number check digits, "week, or from
  and to", "an approval carries an amount", a decimal given as "", a transition the request's state does not
  allow (409), a change without its ETag (428) — and a random identifier names nothing (404). Each of those
  answers is tested where its rule lives.
``RP_CONTRACT_EXAMPLES`` (default 6) sets the examples per operation and caller: CI runs 6; a deeper local run is
``RP_CONTRACT_EXAMPLES=50 .venv/bin/pytest tests/integration/test_api_contract.py``.
Every other check runs, ``not_a_server_error``, ``status_code_conformance`` (only documented statuses),
``content_type_conformance`` (problem+json), ``response_schema_conformance``, ``negative_data_rejection`` and
``ignored_auth`` (the bearer token is required) among them.

Every request sent (a case's, and those the checks send after it) is counted by :mod:`tests.generated_requests`;
with the hypothesis tests of tests/integration/test_no_server_error_inputs.py a run sends well over 10,000
generated requests, and the count is printed at the end of the run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import URL

from rp_api.app import create_app
from rp_api.settings import Settings
from tests import generated_requests
from tests.databases import scratch_database
from tests.token_factory import TokenFactory

SCHEMA = schemathesis.openapi.from_path(Path(__file__).parents[2] / "openapi" / "openapi.yaml")
EXCLUDED = [positive_data_acceptance]
CALLERS = {
    "insurer": ("Solidaris", ["medicalAdvisor", "returnToWorkCoordinator"]),
    "regionalService": ("VDAB", ["referenceAdvisor", "listManager"]),
    "preventionService": ("Idewe", ["occupationalPhysician"]),
    "inami": ("INAMI", ["socialExpert", "medicalInspector"]),
}


@pytest.fixture(scope="module")
def live_api(server_url: URL, settings: Settings, simulator_app: FastAPI) -> Iterator[str]:
    """API RP served by uvicorn in a thread of its own, on a scratch database."""
    with scratch_database(server_url, "rp_contract") as url:
        yield from _serve(url, settings, simulator_app)


def _serve(url: URL, settings: Settings, simulator_app: FastAPI) -> Iterator[str]:
    app = create_app(
        settings.model_copy(update={"database_url": url.render_as_string(hide_password=False)}),
        upstream_transport=httpx.ASGITransport(app=simulator_app),
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def counting_session(pytestconfig: pytest.Config) -> Iterator[requests.Session]:
    """One HTTP session for every case, counting each request sent (the checks' own requests too)."""
    generated_requests.report(pytestconfig)
    with requests.Session() as session:
        session.hooks["response"].append(_count)
        yield session


def _count(response: requests.Response, *args: object, **kwargs: object) -> None:
    generated_requests.count("contract", response.status_code)


@pytest.fixture(scope="module", params=sorted(CALLERS))
def bearer(request: pytest.FixtureRequest, tokens: TokenFactory) -> dict[str, str]:
    organisation, roles = CALLERS[request.param]
    return {"Authorization": f"Bearer {tokens.token(organisation, roles)}"}


@SCHEMA.parametrize()
@settings(
    max_examples=int(os.environ.get("RP_CONTRACT_EXAMPLES", "6")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(
    case: schemathesis.Case, live_api: str, bearer: dict[str, str], counting_session: requests.Session
) -> None:
    generated_requests.CASES["contract"] += 1
    case.call_and_validate(
        base_url=live_api,
        session=counting_session,
        headers=_token_for(case, bearer),
        excluded_checks=EXCLUDED,
        timeout=30,
    )


def _token_for(case: schemathesis.Case, bearer: dict[str, str]) -> dict[str, str]:
    """The caller's token in place of the generated one, except in a negative case that leaves the required
    Authorization header out on purpose: with our token it would be a valid request, rightly answered 200, and
    ``negative_data_rejection`` would report it (it did, once, in CI: an extra query parameter that serialises to
    nothing plus a missing Authorization header)."""
    deliberately_without = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    if deliberately_without and "Authorization" not in (case.headers or {}):
        return {}
    return bearer
