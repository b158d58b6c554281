"""Request context: the ``BelGov-Trace-Id`` of every answer, the access log line, the call's metrics, and the
last-resort 500.

Pure ASGI middleware (no ``BaseHTTPMiddleware``): it wraps the whole application, so even an error raised
outside any handler is answered with a ``internalServerError`` problem that carries the trace id, and logged
with the exception type only (never its message, which may quote SQL parameters or personal data).

Tracing (OpenTelemetry, :mod:`rp_api.telemetry`) is on only when an OTLP endpoint is configured
(:func:`otlp_endpoint`); then the server span of each call carries the answer's ``BelGov-Trace-Id``.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import structlog
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rp_api import metrics, problems

if TYPE_CHECKING:
    from rp_api.settings import Settings

TRACE_HEADER = "BelGov-Trace-Id"
RELATED_TRACE_HEADER = "BelGov-Related-Trace-Id"
_TRACE_KEY = "rp.trace_id"
# Belgif: at most 36 characters. We echo only printable, header-safe tokens.
_ACCEPTABLE_TRACE = re.compile(r"^[A-Za-z0-9._:-]{1,36}$")
TRACE_ATTRIBUTE = "belgov.trace_id"
"""The span attribute of the ``BelGov-Trace-Id`` the answer carries."""
RELATED_TRACE_ATTRIBUTE = "belgov.related_trace_id"
"""The span attribute of the caller's ``BelGov-Trace-Id`` (answered as ``BelGov-Related-Trace-Id``)."""
UNMATCHED = "unmatched"
"""The route of a call that no route answered (an unknown path, or refused before routing: 413)."""

log = structlog.get_logger("rp_api.access")


def trace_id_of(scope: Scope) -> str | None:
    value = scope.get(_TRACE_KEY)
    return value if isinstance(value, str) else None


def _incoming_trace(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"belgov-trace-id":
            text = value.decode("latin-1").strip()
            return text if _ACCEPTABLE_TRACE.match(text) else None
    return None


class RequestContextMiddleware:
    """``traced``: tracing is on (the OpenTelemetry middleware, outside this one, made the server span current)."""

    def __init__(self, app: ASGIApp, *, traced: bool = False) -> None:
        self.app = app
        self._current_span: Callable[[], Any] | None = None
        if traced:
            from opentelemetry.trace import get_current_span

            self._current_span = get_current_span

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        trace_id = str(uuid.uuid4())
        related = _incoming_trace(scope)
        scope[_TRACE_KEY] = trace_id
        extra_headers = [(TRACE_HEADER.encode(), trace_id.encode())]
        if related:
            extra_headers.append((RELATED_TRACE_HEADER.encode(), related.encode()))
        if self._current_span is not None:
            span = self._current_span()
            span.set_attribute(TRACE_ATTRIBUTE, trace_id)
            if related:
                span.set_attribute(RELATED_TRACE_ATTRIBUTE, related)

        status = 500
        started = False

        async def send_with_trace(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), *extra_headers]
            await send(message)

        begin = time.perf_counter()
        with structlog.contextvars.bound_contextvars(trace_id=trace_id):
            try:
                await self.app(scope, receive, send_with_trace)
            except Exception as exc:
                log.error("unhandled_error", error_type=type(exc).__name__, exc_info=_traceback_only(exc))
                if started:
                    raise
                response = problems.render(problems.InternalServerError(), trace_id)
                await response(scope, receive, send_with_trace)
            finally:
                elapsed = time.perf_counter() - begin
                template = _route_template(scope)
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=template,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
                metrics.observe_request(scope.get("method"), route_of(scope, template), status, elapsed)


def route_of(scope: Scope, template: str | None = None) -> str:
    """The template of the route that answered (``/rp/v1/dossiers/{dossierId}``; ``template``: the one the log
    line already computed), or :data:`UNMATCHED` when none did: a metric label, bounded whatever paths callers
    send (a mount, the documentation's assets, is its path and ``{path}``)."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    return template if template is not None else _route_template(scope)


def _route_template(scope: Scope) -> str:
    """The path with each path parameter replaced by its name (``/rp/v1/dossiers/{dossierId}``).

    Templates keep identifiers out of the logs; the raw path never holds an SSIN (Belgif rule) and the query
    string is never logged.
    """
    path = str(scope.get("path", ""))
    params: dict[str, Any] = scope.get("path_params") or {}
    if not params:
        return path
    names = {str(value): name for name, value in params.items()}
    return "/".join(f"{{{names[segment]}}}" if segment in names else segment for segment in path.split("/"))


def _traceback_only(exc: BaseException) -> tuple[type[BaseException], BaseException, Any]:
    """An exc_info whose exception prints as its type only: the frames stay, the message (data) goes."""
    scrubbed = type(exc).__new__(type(exc))
    scrubbed.args = ()
    return (type(exc), scrubbed, exc.__traceback__)


_STANDARD_TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
_STANDARD_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"


def otlp_endpoint(settings: Settings, environ: Mapping[str, str] = os.environ) -> str | None:
    """Where spans are sent (the full URL, ``…/v1/traces``), or None: tracing is off.

    ``RP_OTLP_ENDPOINT`` (a collector's base URL, ``http://collector:4318``) first; else the standard variables of
    OpenTelemetry, as its exporter reads them: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` as it is, or
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` with ``/v1/traces``. ``OTEL_SDK_DISABLED=true`` switches it off whatever is
    set."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if settings.otlp_endpoint:
        return settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    if environ.get(_STANDARD_TRACES_ENDPOINT, "").strip():
        return environ[_STANDARD_TRACES_ENDPOINT].strip()
    if environ.get(_STANDARD_ENDPOINT, "").strip():
        return environ[_STANDARD_ENDPOINT].strip().rstrip("/") + "/v1/traces"
    return None
