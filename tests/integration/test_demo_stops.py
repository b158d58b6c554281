"""``rp-api demo`` stops the embedded PostgreSQL it started when it gets SIGTERM (docker stop, systemd, process
supervisors), SIGINT (Ctrl-C) or SIGHUP (terminal closed), and leaves alone a server it did not start
(``rp-api db start``).

Each test runs the real command in a subprocess, with a data directory, a HOME and free ports of its own, waits for
``/health``, sends the signal, and then looks for the postmaster of that data directory (``postmaster.pid``, the
process, ``pg_ctl status``). No API call is made: the leak was there without any.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from rp_api import embedded

START_TIMEOUT_S = 90.0  # first run: initdb, migrations, seeding; a loaded CI machine is slow
STOP_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).with_name("rp-api")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from rp_api.cli import main; main()"]


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / "postmaster.pid").read_text(encoding="utf-8").split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (a postmaster whose parent is a non-reaping PID 1 stays one)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    pgdata: Path
    log: Path
    port: int

    def output(self) -> str:
        """The end of the demo's stderr, and of the server's log (for a server that would not start or stop)."""
        server_log = self.pgdata / "log"
        server = server_log.read_text(encoding="utf-8", errors="replace")[-1500:] if server_log.exists() else ""
        return f"{self.log.read_text(encoding='utf-8', errors='replace')[-2500:]}\n--- server log:\n{server}"

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"rp-api demo exited with {self.process.returncode} before serving:\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                health = httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2, trust_env=False)
                if health.status_code == 200 and health.json() == {"status": "UP"}:
                    return
            time.sleep(0.1)
        pytest.fail(f"rp-api demo not up after {START_TIMEOUT_S} s:\n{self.output()}")

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"rp-api demo still running {STOP_TIMEOUT_S} s after {sig.name}:\n{self.output()}")


def _environment(data_dir: Path, home: Path, port: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("RP_")}
    env.update(
        HOME=str(home),
        RP_DATA_DIR=str(data_dir),
        RP_HOST="127.0.0.1",
        RP_PORT=str(port),
        RP_SIMULATOR__HOST="127.0.0.1",
        RP_SIMULATOR__PORT=str(_free_port()),
        RP_LOG_LEVEL="WARNING",
    )
    return env


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """One data directory for the module: initialised by the first demo, reused (stopped) by the next ones.

    Not under pytest's base temporary directory: run as root, the server runs as another user, and every pytest
    session that starts meanwhile takes that user's access to ``/tmp/pytest-of-root`` away again.
    """
    path = Path(tempfile.mkdtemp(prefix="rp-demo-stops-"))
    yield path
    embedded.stop_embedded(path / "pgdata")
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def run_demo(data_dir: Path, tmp_path: Path) -> Iterator[Callable[[], Demo]]:
    """Starts ``rp-api demo`` on the module's data directory; whatever happens, the process is killed and the
    server of that directory stopped afterwards."""
    started: list[Demo] = []

    def start() -> Demo:
        port = _free_port()
        (tmp_path / "home").mkdir(exist_ok=True)
        log = tmp_path / "demo.log"
        with log.open("wb") as err:
            process = subprocess.Popen(
                [*_command(), "demo"],
                env=_environment(data_dir, tmp_path / "home", port),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the development tokens
                stderr=err,
                start_new_session=True,  # a Ctrl-C on pytest does not reach it; it gets only the signals we send
            )
        demo = Demo(process, data_dir / "pgdata", log, port)
        started.append(demo)
        return demo

    yield start
    for demo in started:
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait(timeout=STOP_TIMEOUT_S)
    embedded.stop_embedded(data_dir / "pgdata")


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 5  # the postmaster removes its pid file just before it exits
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_the_demo_stops_the_server_it_started(run_demo: Callable[[], Demo], sig: signal.Signals) -> None:
    # A signal ignored here is ignored by the demo too (inherited): under nohup, SIGHUP rightly does nothing; run in
    # the background of a shell, SIGINT still ends the serve loop (uvicorn's handler) but the exit is then a normal one.
    ignored = signal.getsignal(sig) is signal.SIG_IGN
    if ignored and sig is signal.SIGHUP:
        pytest.skip("SIGHUP is ignored by this process (nohup), hence by the demo")
    demo = run_demo()
    demo.wait_until_up()
    postmaster = _postmaster_pid(demo.pgdata)
    assert postmaster is not None
    assert _alive(postmaster)

    assert demo.stop(sig) == (0 if ignored else 128 + sig), demo.output()

    assert _gone(postmaster), f"postmaster {postmaster} still running after {sig.name}:\n{demo.output()}"
    assert not (demo.pgdata / "postmaster.pid").exists()
    assert not embedded.is_running(demo.pgdata)


def test_the_demo_leaves_a_server_it_did_not_start(run_demo: Callable[[], Demo], data_dir: Path) -> None:
    server = embedded.start_embedded(data_dir / "pgdata", stop_at_exit=False)  # as `rp-api db start` does
    postmaster = _postmaster_pid(server.pgdata)
    assert postmaster is not None

    demo = run_demo()
    demo.wait_until_up()
    assert demo.stop(signal.SIGTERM) == 128 + signal.SIGTERM, demo.output()

    assert _postmaster_pid(server.pgdata) == postmaster
    assert _alive(postmaster)
    assert embedded.is_running(server.pgdata)
    assert embedded.stop_embedded(server.pgdata)
