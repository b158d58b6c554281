"""Tracing with OpenTelemetry: the spans of real calls, caught by an in-memory exporter (as the OTLP one would get
them, through the same redaction). The server span of each call carries the ``BelGov-Trace-Id`` of its answer (and
the caller's, as the related one); the calls to the authentic sources and the database statements are spans of
it; and nothing in any span — attributes, events, names — is an SSIN, a name or health data, even when the caller
puts an SSIN in the query string. Without an endpoint, tracing is off and costs nothing: no SDK, no
instrumentation, no patched driver.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from rp_api.app import create_app
from rp_api.settings import Settings
from rp_api.simulator.population import SimulatedPerson
from rp_api.tracing import RELATED_TRACE_ATTRIBUTE, TRACE_ATTRIBUTE
from tests.integration.test_dossiers_and_forms import PHYSICIAN_CONTENT, Caller
from tests.token_factory import TokenFactory

HEALTH_DATA = (PHYSICIAN_CONTENT["incapacityStartDate"], "No lifting over 5 kg")


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def app(settings: Settings, simulator_app: FastAPI, exporter: InMemorySpanExporter) -> FastAPI:
    """The app with tracing on, its spans in ``exporter`` (the ``client`` fixture runs its lifespan)."""
    return create_app(settings, upstream_transport=httpx.ASGITransport(app=simulator_app), span_exporter=exporter)


def as_json(spans: Iterator[ReadableSpan] | tuple[ReadableSpan, ...]) -> str:
    return "\n".join(span.to_json() for span in spans)


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_the_server_span_carries_the_trace_id_and_no_span_carries_personal_data(
    client: httpx.AsyncClient,
    exporter: InMemorySpanExporter,
    tokens: TokenFactory,
    person: SimulatedPerson,
) -> None:
    physician = Caller(client, tokens.token("Solidaris", ["medicalAdvisor"]))
    opened = await physician.post(
        "/dossiers", {"ssin": person.ssin, "start": "registrationForm"}, **{"BelGov-Trace-Id": "caller-trace-1"}
    )
    assert opened.status_code == 201, opened.text
    dossier = opened.json()["id"]
    form = await physician.post(f"/dossiers/{dossier}/registrationForms", PHYSICIAN_CONTENT)
    assert form.status_code == 201, form.text
    read = await physician.get(f"/dossiers/{dossier}")
    assert read.status_code == 200
    smuggled = await client.get(f"/rp/v1/dossiers/{dossier}?ssin={person.ssin}", headers=physician.headers)
    assert smuggled.status_code == 400  # an unknown query parameter; its value must not reach a span either

    spans = exporter.get_finished_spans()
    servers = [span for span in spans if span.kind is SpanKind.SERVER]
    answers = (opened, form, read, smuggled)
    assert sorted(attributes(span)[TRACE_ATTRIBUTE] for span in servers) == sorted(
        answer.headers["BelGov-Trace-Id"] for answer in answers
    )
    (first,) = [span for span in servers if attributes(span)[TRACE_ATTRIBUTE] == opened.headers["BelGov-Trace-Id"]]
    assert attributes(first)[RELATED_TRACE_ATTRIBUTE] == "caller-trace-1"
    assert opened.headers["BelGov-Related-Trace-Id"] == "caller-trace-1"

    # The sources and the database, as spans of the calls.
    server_traces = {span.context.trace_id for span in servers}
    upstream = [span for span in spans if span.kind is SpanKind.CLIENT and "simulator.test" in str(attributes(span))]
    assert {span.context.trace_id for span in upstream} <= server_traces
    assert any("/cin/memberdata/v1/affiliations/query" in str(attributes(span)) for span in upstream)
    statements = [span for span in spans if attributes(span).get("db.system") == "postgresql"]
    assert statements
    assert {span.context.trace_id for span in statements} & server_traces
    assert all("db.statement" in attributes(span) for span in statements)
    assert not any("db.statement.parameters" in attributes(span) for span in statements)

    # Nothing personal anywhere: not the SSIN (in the bodies and smuggled in a query string), not the person's
    # name, not the health data of the form.
    everything = as_json(spans)
    for personal in (person.ssin, person.family_name, person.given_name, *HEALTH_DATA):
        assert personal not in everything
    assert "?ssin" not in everything


async def test_a_driver_error_leaves_its_message_out_of_the_spans(
    client: httpx.AsyncClient, exporter: InMemorySpanExporter, person: SimulatedPerson, app: FastAPI
) -> None:
    """asyncpg's messages quote what was sent (``invalid input syntax for type integer: "…"``): the span of a
    failed statement keeps the exception's type, never its message."""
    async with app.state.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        with pytest.raises(asyncpg.InvalidTextRepresentationError, match=person.ssin):
            await driver.fetchval(f"SELECT 'x{person.ssin}'::int")  # the driver quotes the SSIN back
    (failed,) = [span for span in exporter.get_finished_spans() if span.status.status_code is StatusCode.ERROR]
    assert [event.name for event in failed.events] == ["exception"]
    recorded = dict(failed.events[0].attributes or {})
    assert recorded["exception.type"] == "asyncpg.exceptions.InvalidTextRepresentationError"
    assert set(recorded) <= {"exception.type", "exception.escaped"}  # no message, no stack trace
    assert failed.status.description is None
    assert "[redacted]" in attributes(failed)["db.statement"]  # the SSIN written in the SQL text itself
    assert person.ssin not in as_json(exporter.get_finished_spans())


def test_tracing_is_off_without_an_endpoint(settings: Settings, simulator_app: FastAPI) -> None:
    assert settings.otlp_endpoint is None
    app = create_app(settings, upstream_transport=httpx.ASGITransport(app=simulator_app))
    assert app.state.tracing is None
    assert not hasattr(asyncpg.connection.Connection.execute, "__wrapped__")  # the driver is not patched


def test_without_an_endpoint_nothing_of_opentelemetry_is_loaded(repo_root: Path, tmp_path: Path) -> None:
    """In a fresh process with no OTLP endpoint in its environment: the app is built and nothing of the SDK, the
    exporter or an instrumentation is imported."""
    probe = (
        "import sys; from rp_api.app import create_app; from rp_api.settings import Settings;"
        f"app = create_app(Settings(env='test', data_dir={str(tmp_path)!r})); assert app.state.tracing is None;"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter',"
        " 'opentelemetry.instrumentation', 'rp_api.telemetry'))))"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "RP_"))}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=repo_root, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().replace("'", '"')) == []
