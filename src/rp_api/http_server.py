"""The HTTP/1.1 protocol ``rp-api serve`` runs: uvicorn's httptools protocol, with a bound on the request head.

httptools keeps a header's bytes until the header ends, however long it is, and uvicorn sets no limit: a client could
make the server hold a 60 MB header in memory before authentication ever looks at the call. Here the bytes of an
unfinished request head (request line and headers) are counted as they arrive; past :data:`MAX_HEAD_BYTES` the
call is answered ``431`` (problem+json) and the connection closed, without reading further (the application, and
so authentication, never sees the call).
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024
"""The largest request head accepted: the request line and every header together (a JWT of several kB included)."""

CLOSE_AFTER_REFUSAL_S = 1.0

_PROBLEM = json.dumps(
    {
        "type": "about:blank",  # Belgif defines no problem type for 431: the status says it
        "title": "Request Header Fields Too Large",
        "status": 431,
        "detail": f"The request line and headers exceed {MAX_HEAD_BYTES} bytes",
    }
).encode()
REFUSAL = b"".join(
    [
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        b"content-type: application/problem+json\r\n",
        b"content-length: " + str(len(_PROBLEM)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
        _PROBLEM,
    ]
)


class BoundedHeadProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing (431) a request head longer than :data:`MAX_HEAD_BYTES`."""

    _in_head = False
    _head_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._in_head or self.transport.is_closing():
            return
        # The head is still unfinished after this chunk: all of it (but, at worst, the end of a pipelined request
        # before it) belongs to the head that the parser holds.
        self._head_bytes += len(data)
        if self._head_bytes > MAX_HEAD_BYTES:
            self._in_head = False
            self._refuse()

    def _refuse(self) -> None:
        """Answer 431 and end the answer (FIN), read nothing more, and close a moment later: closing at once, with
        the client's bytes still unread, would reset the connection and could lose the answer on its way."""
        self.transport.write(REFUSAL)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.transport.pause_reading()
        self.loop.call_later(CLOSE_AFTER_REFUSAL_S, self.transport.close)
