"""Request context: the ``BelGov-Trace-Id`` of every answer, the access log line, and the last-resort 500.

Pure ASGI middleware (no ``BaseHTTPMiddleware``): it wraps the whole application, so even an error raised
outside any handler is answered with a ``internalServerError`` problem that carries the trace id, and logged
with the exception type only (never its message, which may quote SQL parameters or personal data).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rp_api import problems

TRACE_HEADER = "BelGov-Trace-Id"
RELATED_TRACE_HEADER = "BelGov-Related-Trace-Id"
_TRACE_KEY = "rp.trace_id"
# Belgif: at most 36 characters. We echo only printable, header-safe tokens.
_ACCEPTABLE_TRACE = re.compile(r"^[A-Za-z0-9._:-]{1,36}$")

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
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=_route_template(scope),
                    status=status,
                    duration_ms=round((time.perf_counter() - begin) * 1000, 2),
                )


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
