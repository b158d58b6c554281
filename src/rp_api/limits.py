"""Request limits: the largest body accepted (413 ``payloadTooLarge``) and the JSON-only rule (415).

The size is checked on ``Content-Length`` before anything is read; a body without a declared length (chunked) is
read by the middleware up to the limit before the application sees it, so it cannot get past the limit either.
"""

from __future__ import annotations

from email.message import Message as MimeMessage

from fastapi import Request
from fastapi.dependencies.models import Dependant
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rp_api import problems
from rp_api.tracing import trace_id_of


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            # The server delivers no more than the declared length, so checking the header is enough.
            if declared > self.limit:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read the body here, up to the limit, then replay it to the app.
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.render(problems.PayloadTooLarge(self.limit), trace_id_of(scope))
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _is_json(content_type: str) -> bool:
    mime = MimeMessage()
    mime["content-type"] = content_type
    if mime.get_content_maintype() != "application":
        return False
    subtype = mime.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def ensure_json_body(request: Request) -> None:
    """A request that carries a body must declare it as JSON, else 415 (checked before the body is parsed)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    has_body = (_content_length(request.scope) or 0) > 0 or "transfer-encoding" in request.headers
    if has_body and not _is_json(request.headers.get("content-type", "")):
        raise problems.UnsupportedMediaType()


def refuse_unknown_query_parameters(request: Request, known: frozenset[str]) -> None:
    """A query parameter the operation does not declare is refused (400, ``unknownInput``), not ignored: a
    misspelt filter would otherwise widen the answer silently."""
    if not request.scope.get("query_string"):
        return  # most calls have none: no need to parse them
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        raise problems.BadRequest(
            [
                problems.InputIssue(problems.UNKNOWN_INPUT, "Unknown query parameter", None, "query", name[:100])
                for name in unknown[:10]
            ]
        )


def query_parameters(dependant: Dependant) -> frozenset[str]:
    """The names of every query parameter an operation declares, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= query_parameters(dependency)
    return frozenset(names)
