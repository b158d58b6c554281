"""A request head longer than the bound is refused (431) as it arrives, before the application (and its
authentication) ever sees the call; ordinary and pipelined requests go through."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from rp_api.http_server import MAX_HEAD_BYTES, BoundedHeadProtocol

seen: list[str] = []


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    seen.append(scope["path"])
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    config = uvicorn.Config(
        _app, host="127.0.0.1", port=free, http=BoundedHeadProtocol, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    yield free
    server.should_exit = True
    thread.join(5)


async def _exchange(port: int, chunks: list[bytes]) -> tuple[bytes, int]:
    """Send the chunks (until the server stops reading and hangs up) while reading what it answers, as an HTTP
    client does; returns the answer and how many bytes could be sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0

    async def send() -> None:
        nonlocal sent
        try:
            for chunk in chunks:
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
        except (ConnectionResetError, BrokenPipeError):
            pass

    sending = asyncio.create_task(send())
    answer = await asyncio.wait_for(reader.read(), 10)
    await asyncio.wait_for(sending, 10)
    writer.close()
    return answer, sent


async def test_an_oversized_header_is_refused_before_the_app_sees_it(port: int) -> None:
    seen.clear()
    head = b"GET /too-big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
    filler = [b"a" * 16384] * (60 * 64)  # 60 MB if the server read it all

    answer, sent = await _exchange(port, [head, *filler])

    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"application/problem+json" in answer
    assert "/too-big" not in seen
    assert sent < 60 * 1024 * 1024  # the server hung up long before the end


async def test_a_head_within_the_bound_and_pipelined_requests_are_served(port: int) -> None:
    seen.clear()
    token = b"a" * (MAX_HEAD_BYTES // 2)
    one = b"GET /first HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + b"\r\n\r\n"
    two = b"GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    answer, _ = await _exchange(port, [one[:1000], one[1000:] + two])

    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert seen == ["/first", "/second"]
