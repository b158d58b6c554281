"""Tracing with OpenTelemetry, when an OTLP endpoint is configured (see :func:`rp_api.tracing.otlp_endpoint`):
the server span of every call (FastAPI), a client span per call to an authentic source or a key set (httpx, the
app's own client only) and per database statement (asyncpg), sent over OTLP/HTTP (protobuf).

Imported only when tracing is on: without an endpoint, neither the SDK, nor the exporter, nor an instrumentation
is loaded, and nothing is patched.

What a span may carry: the route template, the path and its ids, the statement's SQL text, the status, and the
``BelGov-Trace-Id`` of the answer (``belgov.trace_id``, :mod:`rp_api.tracing`). What it never carries, whatever the
OpenTelemetry environment variables ask: statement parameters (asyncpg's ``capture_parameters`` is off), captured
headers (``Authorization`` holds a token whose subject is an SSIN), query strings, exception messages and stack
traces (a driver's message may quote a row), status descriptions, and any string that looks like an SSIN. Every
span goes through :class:`RedactingExporter` on its way out.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status

from rp_api import __version__

SERVICE_NAME = "rp-api"
REDACTED = "[redacted]"

_SSIN_LIKE = re.compile(r"(?<!\d)(?:\d{11}|\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2})(?!\d)")
"""Eleven digits standing alone, or an SSIN as printed (85.07.31-001.23): redacted wherever they appear."""
_DROPPED_PREFIXES = ("http.request.header.", "http.response.header.", "db.query.parameter.")
_DROPPED = frozenset({"db.statement.parameters", "url.query", "exception.message", "exception.stacktrace"})
_WITHOUT_QUERY = frozenset({"http.target", "http.url", "url.full"})
_EXCEPTION_KEPT = frozenset({"exception.type", "exception.escaped"})


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _SSIN_LIKE.sub(REDACTED, value)
    if isinstance(value, (list, tuple)):
        return tuple(_clean(item) for item in value)
    return value


def redacted_attributes(attributes: Mapping[str, Any] | None, *, only: frozenset[str] | None = None) -> dict[str, Any]:
    """The attributes a span may take out: no header, parameter, query string or message, no SSIN-like string."""
    kept: dict[str, Any] = {}
    for key, value in (attributes or {}).items():
        if (only is not None and key not in only) or key in _DROPPED or key.startswith(_DROPPED_PREFIXES):
            continue
        if key in _WITHOUT_QUERY and isinstance(value, str):
            value = value.split("?", 1)[0]
        kept[key] = _clean(value)
    return kept


def redacted(span: ReadableSpan) -> ReadableSpan:
    """A copy of ``span`` as it may leave the process (see the module's documentation)."""
    events = [
        Event(
            event.name,
            redacted_attributes(event.attributes, only=_EXCEPTION_KEPT if event.name == "exception" else None),
            event.timestamp,
        )
        for event in span.events
    ]
    return ReadableSpan(
        name=_clean(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=redacted_attributes(span.attributes),
        events=events,
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),  # without its description: an exception's message
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class RedactingExporter(SpanExporter):
    """Exports through ``inner`` the redacted copy of every span."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([redacted(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def otlp_exporter(endpoint: str) -> SpanExporter:
    """OTLP over HTTP (protobuf) to ``endpoint`` (the full URL, ``…/v1/traces``); headers, certificates, compression
    and timeout from the standard ``OTEL_EXPORTER_OTLP_*`` variables."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint)


class Tracing:
    """The tracer provider of one app, and what it instruments. ``batch``: spans are exported in the background
    (production); otherwise as each ends (the tests' in-memory exporter)."""

    def __init__(self, exporter: SpanExporter, *, batch: bool = True) -> None:
        resource = Resource.create(
            {"service.name": os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME, "service.version": __version__}
        )
        self.provider = TracerProvider(resource=resource)  # the sampler: OTEL_TRACES_SAMPLER (default: always)
        exporting = RedactingExporter(exporter)
        processor = BatchSpanProcessor(exporting) if batch else SimpleSpanProcessor(exporting)
        self.provider.add_span_processor(processor)
        self._clients: list[httpx.AsyncClient] = []
        self._database = False

    def instrument_app(self, app: FastAPI) -> None:
        """The server span of every call but ``/health`` (probes), named by its route template."""
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self.provider,
            meter_provider=NoOpMeterProvider(),
            excluded_urls=os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", "/health"),
            exclude_spans=["receive", "send"],
        )

    def instrument_client(self, http: httpx.AsyncClient) -> None:
        """A client span per outbound call of ``http`` (and the W3C ``traceparent`` header on it)."""
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor.instrument_client(
            http, tracer_provider=self.provider, meter_provider=NoOpMeterProvider()
        )
        self._clients.append(http)

    def instrument_database(self) -> None:
        """A client span per asyncpg statement, with its SQL text and never its parameters. asyncpg is patched for
        the whole process (the instrumentation can do no other), until :meth:`close`."""
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

        instrumentor = AsyncPGInstrumentor(capture_parameters=False)  # type: ignore[no-untyped-call]
        instrumentor.instrument(tracer_provider=self.provider)
        self._database = True

    async def close(self) -> None:
        """Undo the instrumentation of the client and of asyncpg, then export what is left and stop."""
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        for http in self._clients:
            HTTPXClientInstrumentor.uninstrument_client(http)
        self._clients.clear()
        if self._database:
            from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

            AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
            self._database = False
        await asyncio.to_thread(self.provider.shutdown)
