"""``rp-api serve`` and the database at start-up: a database that is not there yet (a container starting beside it)
is waited for, up to ``RP_DB_STARTUP_WAIT_S``; one that refuses the login, or a database that does not exist, ends
the start-up at once with one line and exit code 2. Before, a wrong password started the service anyway, with
only ``link_cache_purge_failed`` in the log and 503s for every caller.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL
from typer.testing import CliRunner

from rp_api.cli import app as cli

pytestmark = pytest.mark.usefixtures("clean_rp_environment")

PASSWORD = "Wr0ng-Pa55word-4-test"


def _environment(tmp_path: Path, database_url: URL, **more: str) -> dict[str, str]:
    return {
        "RP_ENV": "test",
        "RP_DATA_DIR": str(tmp_path / "data"),
        "RP_DATABASE_URL": database_url.render_as_string(hide_password=False),
        "RP_UMAN_EHEALTH__ISSUER": "https://idp.example/",
        "RP_UMAN_EHEALTH__JWKS_URL": "https://idp.example/jwks",
        **more,
    }


@pytest.mark.parametrize(
    ("case", "reason"),
    [("unknown role", "refused the login"), ("missing database", "does not exist")],
)
async def test_what_waiting_does_not_mend_ends_the_start_at_once(
    own_database: URL, tmp_path: Path, case: str, reason: str
) -> None:
    if case == "unknown role":
        url = own_database.set(username="rp_nobody", password=PASSWORD)
    else:
        url = own_database.set(database="rp_no_such_database", password=PASSWORD)
    env = _environment(tmp_path, url, RP_DB_STARTUP_WAIT_S="120")
    started = time.monotonic()
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["serve", "--workers", "1"], env=env)
    assert time.monotonic() - started < 30  # not the 120 s of waiting
    assert result.exit_code == 2, (result.output, result.exception)
    (line,) = result.output.splitlines()
    assert "RP_DATABASE_URL" in line
    assert reason in line
    assert PASSWORD not in line
    assert "rp_nobody" not in line  # the driver's message is not quoted


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        return subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True
        )


def _read(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")


class LateDatabase:
    """A TCP port in front of the test server that starts listening only when told: until then, connections to
    it are refused, as to a database that is not up yet."""

    def __init__(self, server: URL) -> None:
        self.server = server
        self.port = _free_port()
        self.listening: asyncio.Server | None = None
        self.pipes: set[asyncio.Task[None]] = set()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        directory = self.server.query.get("host")
        if isinstance(directory, str) and directory.startswith("/"):  # the embedded server's Unix socket
            return await asyncio.open_unix_connection(Path(directory) / f".s.PGSQL.{self.server.port or 5432}")
        return await asyncio.open_connection(self.server.host or "127.0.0.1", self.server.port or 5432)

    async def _forward(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        server, to_server = await self._open()

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        for task in (asyncio.ensure_future(pipe(client, to_server)), asyncio.ensure_future(pipe(server, to_client))):
            self.pipes.add(task)
            task.add_done_callback(self.pipes.discard)

    async def come(self) -> None:
        self.listening = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def go(self) -> None:
        for task in list(self.pipes):
            task.cancel()
        if self.listening is not None:
            self.listening.close()
            await self.listening.wait_closed()

    def url(self) -> URL:
        query = {key: value for key, value in self.server.query.items() if key != "host"}
        return self.server.set(host="127.0.0.1", port=self.port, query=query)


async def test_serve_waits_for_a_database_that_comes_late(own_database: URL, tmp_path: Path) -> None:
    """The database's port is closed for the first 2 s of the start-up, then opens: the service waits, then
    serves."""
    database = LateDatabase(own_database)
    http_port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("RP_")}
    env |= _environment(
        tmp_path, database.url(), RP_DB_STARTUP_WAIT_S="60", RP_PORT=str(http_port), RP_LOG_LEVEL="WARNING"
    )
    log = tmp_path / "serve.log"
    command = [sys.executable, "-c", "from rp_api.cli import main; main()", "serve", "--workers", "1"]
    process = _start(command, env, tmp_path, log)
    try:
        await asyncio.sleep(2)
        assert process.poll() is None, _read(log)  # still waiting, not given up
        await database.come()
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
            while True:
                assert process.poll() is None, _read(log)
                assert time.monotonic() < deadline, _read(log)
                try:
                    health = await client.get(f"http://127.0.0.1:{http_port}/health")
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
                    continue
                assert health.json() == {"status": "UP"}
                break
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
        await database.go()
    assert "Traceback" not in _read(log)
