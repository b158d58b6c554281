"""The pure parts of metrics and tracing: what switches tracing on, what a span may take out of the process, the
labels a call is counted under, the pool gauges, and the two settings' errors (one line, never the value)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import REGISTRY
from sqlalchemy import create_engine
from sqlalchemy.pool import QueuePool
from starlette.routing import Mount, Route

from rp_api import metrics
from rp_api.settings import ConfigurationError, Settings, load_settings
from rp_api.telemetry import REDACTED, redacted
from rp_api.tracing import UNMATCHED, otlp_endpoint, route_of

SSIN = "85073100123"


@pytest.mark.parametrize(
    ("setting", "environ", "expected"),
    [
        (None, {}, None),
        ("http://collector:4318", {}, "http://collector:4318/v1/traces"),
        (
            "http://collector:4318/",
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318"},
            "http://collector:4318/v1/traces",
        ),
        (None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318/"}, "http://other:4318/v1/traces"),
        (
            None,
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t/x"},
            "http://t/x",
        ),
        (None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, None),
        ("http://collector:4318", {"OTEL_SDK_DISABLED": "true"}, None),
        (None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318", "OTEL_SDK_DISABLED": "TRUE"}, None),
    ],
)
@pytest.mark.usefixtures("clean_rp_environment")
def test_where_spans_go(setting: str | None, environ: dict[str, str], expected: str | None) -> None:
    assert otlp_endpoint(Settings(otlp_endpoint=setting), environ) == expected


def _span(**overrides: Any) -> ReadableSpan:
    fields: dict[str, Any] = {
        "name": f"GET /rp/v1/persons/{SSIN}",
        "kind": SpanKind.SERVER,
        "attributes": {
            "http.route": "/rp/v1/dossiers/{dossierId}",
            "http.target": f"/rp/v1/dossiers/1?ssin={SSIN}",
            "url.full": f"http://rp.test/rp/v1/dossiers/1?ssin={SSIN}",
            "url.query": f"ssin={SSIN}",
            "http.request.header.authorization": ("Bearer eyJ…",),
            "db.statement": f"SELECT '{SSIN}', 85.07.31-001.23, 123456789012",
            "db.statement.parameters": f"('{SSIN}',)",
            "belgov.trace_id": "0f67f0cb-30a6-44ee-aedc-ec5ae4e3167e",
            "http.status_code": 500,
        },
        "events": [
            Event(
                "exception",
                {
                    "exception.type": "UniqueViolationError",
                    "exception.message": f"Key (ssin)=({SSIN}) already exists",
                    "exception.stacktrace": f"Traceback … ({SSIN})",
                    "exception.escaped": "False",
                },
            ),
            Event("note", {"detail": f"person {SSIN}", "count": 3}),
        ],
        "status": Status(StatusCode.ERROR, f"UniqueViolationError: Key (ssin)=({SSIN})"),
    }
    return ReadableSpan(**{**fields, **overrides})


def test_a_span_leaves_without_headers_parameters_query_strings_messages_or_ssins() -> None:
    out = redacted(_span())
    assert out.name == f"GET /rp/v1/persons/{REDACTED}"
    assert dict(out.attributes or {}) == {
        "http.route": "/rp/v1/dossiers/{dossierId}",
        "http.target": "/rp/v1/dossiers/1",
        "url.full": "http://rp.test/rp/v1/dossiers/1",
        "db.statement": f"SELECT '{REDACTED}', {REDACTED}, 123456789012",  # twelve digits are no SSIN
        "belgov.trace_id": "0f67f0cb-30a6-44ee-aedc-ec5ae4e3167e",
        "http.status_code": 500,
    }
    exception, note = out.events
    assert dict(exception.attributes or {}) == {"exception.type": "UniqueViolationError", "exception.escaped": "False"}
    assert dict(note.attributes or {}) == {"detail": f"person {REDACTED}", "count": 3}
    assert out.status.status_code is StatusCode.ERROR
    assert out.status.description is None
    assert SSIN not in out.to_json()
    assert (out.context, out.kind, out.start_time) == (_span().context, SpanKind.SERVER, _span().start_time)


def test_a_span_without_personal_data_leaves_as_it_was() -> None:
    span = _span(
        name="SELECT",
        attributes={"db.statement": "SELECT 1 FROM dossier WHERE id = $1", "db.system": "postgresql"},
        events=[],
        status=Status(StatusCode.OK),
    )
    out = redacted(span)
    assert (out.name, dict(out.attributes or {}), out.status.status_code) == (
        "SELECT",
        {"db.statement": "SELECT 1 FROM dossier WHERE id = $1", "db.system": "postgresql"},
        StatusCode.OK,
    )


def _endpoint() -> None:
    pass


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"path": "/rp/v1/nothing/85073100123"}, UNMATCHED),
        (
            {
                "path": "/rp/v1/dossiers/6f0e2d3c-8a1b-4c5d-9e7f-0a1b2c3d4e5f",
                "route": Route("/dossiers/{dossierId:uuid}", _endpoint),
                "path_params": {"dossierId": "6f0e2d3c-8a1b-4c5d-9e7f-0a1b2c3d4e5f"},
            },
            "/rp/v1/dossiers/{dossierId}",
        ),
        ({"path": "/rp/v1/me", "route": Route("/me", _endpoint), "path_params": {}}, "/rp/v1/me"),
        (
            {"path": "/docs-assets/a/b.css", "route": Mount("/docs-assets", routes=[]), "path_params": {"path": "a/b"}},
            "/docs-assets/{path}",
        ),
    ],
)
def test_a_call_is_counted_under_its_route_template(scope: dict[str, Any], expected: str) -> None:
    assert route_of(scope) == expected


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_an_unknown_method_is_counted_as_other() -> None:
    labels = {"route": "/rp/v1/me", "status": "405"}
    before = (_sample("rp_http_requests_total", method="other", **labels), _sample("rp_http_requests_total", **labels))
    metrics.observe_request("BREW", "/rp/v1/me", 405, 0.001)
    assert _sample("rp_http_requests_total", method="other", **labels) == before[0] + 1
    assert _sample("rp_http_requests_total", method="BREW", **labels) == 0


def test_the_pool_gauges_follow_the_connections_lent() -> None:
    engine = create_engine("sqlite://", poolclass=QueuePool, pool_size=3, max_overflow=2)
    metrics.watch_pool(SimpleNamespace(sync_engine=engine), "unitTest")
    assert _sample("rp_db_pool_size_connections", pool="unitTest") == 3
    lent = [engine.connect() for _ in range(4)]  # one in overflow
    assert _sample("rp_db_pool_checked_out_connections", pool="unitTest") == 4
    lent[0].invalidate()
    for connection in lent:
        connection.close()
    assert _sample("rp_db_pool_checked_out_connections", pool="unitTest") == 0
    held = engine.connect()
    engine.dispose()  # a renewed pool: the connection of the old one still comes back
    assert _sample("rp_db_pool_checked_out_connections", pool="unitTest") == 1
    held.close()
    assert _sample("rp_db_pool_checked_out_connections", pool="unitTest") == 0


@pytest.mark.usefixtures("clean_rp_environment")
def test_the_metrics_port_must_not_be_the_api_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RP_PORT", "8123")
    monkeypatch.setenv("RP_METRICS_PORT", "8123")
    with pytest.raises(ConfigurationError, match="RP_METRICS_PORT must be another port than RP_PORT"):
        load_settings()
    monkeypatch.setenv("RP_METRICS_PORT", "9464")
    assert load_settings().metrics_port == 9464


@pytest.mark.usefixtures("clean_rp_environment")
@pytest.mark.parametrize("endpoint", ["collector:4318", "ftp://user:Secr3t-pw@collector:21", "http://:Secr3t-pw@"])
def test_a_bad_otlp_endpoint_is_named_never_quoted(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv("RP_OTLP_ENDPOINT", endpoint)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("RP_OTLP_ENDPOINT: ")
    assert "\n" not in message
    assert endpoint not in message
    assert "Secr3t" not in message
