"""The ``rp-api`` command refuses unsafe or incomplete configurations before it starts anything, serves with N
worker processes under the stop signals of ``serve``, and gives a database that does not answer yet a bounded
time (``RP_DB_STARTUP_WAIT_S``)."""

from __future__ import annotations

import functools
import os
import signal
import socket
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import uvicorn
import yaml
from typer.testing import CliRunner

from rp_api.cli import _SUPERVISED_SIGNALS, _worker_app, _Workers, app, available_cores
from rp_api.db import DatabaseUnavailableError, when_the_database_answers, why_unavailable

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("clean_rp_environment")


def test_serve_in_production_needs_a_database_url() -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "RP_DATABASE_URL is required" in result.output


@pytest.mark.parametrize("switch", ["RP_DEBUG", "RP_DEV_TOKEN_ISSUER"])
def test_serve_refuses_dev_switches_in_production(monkeypatch: pytest.MonkeyPatch, switch: str) -> None:
    monkeypatch.setenv(switch, "true")
    monkeypatch.setenv("RP_DATABASE_URL", "postgresql://rp@127.0.0.1:1/rp")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "refusing to start" in result.output
    assert switch in result.output


def test_openapi_to_stdout() -> None:
    result = runner.invoke(app, ["openapi", "--output", "-"])
    assert result.exit_code == 0
    document = yaml.safe_load(result.stdout)
    assert document["info"]["title"] == "API RP"
    assert "/health" in document["paths"]


# --- serve --workers ------------------------------------------------------------------------------------------------


def test_serve_takes_a_number_of_workers() -> None:
    help_text = runner.invoke(app, ["serve", "--help"], terminal_width=200).output
    assert "--workers" in help_text
    assert "cores" in help_text
    for wrong in ("0", "-2", "many"):
        refused = runner.invoke(app, ["serve", "--workers", wrong])
        assert refused.exit_code == 2  # a usage error, before anything starts
        assert "--workers" in refused.output


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [
        ("max 100000\n", None),  # no quota: the affinity
        ("100000 100000\n", 1),
        ("150000 100000\n", 2),  # 1.5 CPUs: 2 processes
        ("50000 100000\n", 1),  # never 0
        (None, None),  # no cgroup v2 file
        ("garbage\n", None),
    ],
)
def test_the_default_is_the_cores_this_process_may_use(
    tmp_path: Path, cpu_max: str | None, expected: int | None
) -> None:
    path = tmp_path / "cpu.max"
    if cpu_max is not None:
        path.write_text(cpu_max, encoding="ascii")
    affinity = len(os.sched_getaffinity(0))
    assert available_cores(path) == (min(expected, affinity) if expected is not None else affinity)


def test_two_workers_are_supervised_with_the_stop_signals_of_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGHUP stops the workers (the terminal closed) instead of uvicorn's restart, a signal ignored beforehand
    (nohup) stays ignored, and the stop signal is remembered to be raised again once the workers are gone."""
    previous = {sig: signal.getsignal(sig) for sig in _SUPERVISED_SIGNALS}
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        supervisor = _Workers(uvicorn.Config(app=lambda: None, workers=2), sockets=[])
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, previous[signal.SIGTERM])
        supervisor.signal_queue.extend([signal.SIGTERM, signal.SIGINT])
        supervisor.handle_signals()
        assert supervisor.should_exit.is_set()
        assert supervisor.stopped_by == signal.SIGTERM
        hup = _Workers(uvicorn.Config(app=lambda: None, workers=2), sockets=[])
        monkeypatch.setattr(hup, "restart_all", lambda: pytest.fail("SIGHUP restarted the workers"))
        hup.signal_queue.append(signal.SIGHUP)
        hup.handle_signals()
        assert hup.should_exit.is_set()
        assert hup.stopped_by == signal.SIGHUP
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def test_a_worker_builds_its_application_and_ignores_sighup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What uvicorn calls in each spawned worker: it must pickle (spawn), build the app there, freeze the heap,
    and leave SIGHUP to the supervisor."""
    import gc
    import pickle

    from fastapi import FastAPI

    from rp_api.settings import Environment, Settings

    settings = Settings(env=Environment.TEST, data_dir=tmp_path, database_url="postgresql://rp:pw@db.example/rp")
    factory = pickle.loads(pickle.dumps(functools.partial(_worker_app, settings)))  # noqa: S301 - as spawn sends it
    previous = signal.getsignal(signal.SIGHUP)
    try:
        gc.unfreeze()
        built = factory()
        assert isinstance(built, FastAPI)
        assert built.state.settings == settings
        assert gc.get_freeze_count() > 0
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        gc.unfreeze()
        signal.signal(signal.SIGHUP, previous if previous is not None else signal.SIG_DFL)


# --- the database at start-up ---------------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class PostgresError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("password authentication failed for user rp_runtime")
        self.sqlstate = sqlstate


def failing(errors: list[BaseException], answer: str = "answered") -> Callable[[], Awaitable[str]]:
    async def attempt() -> str:
        if errors:
            raise errors.pop(0)
        return answer

    return attempt


async def test_a_database_that_comes_late_is_waited_for() -> None:
    time = FakeTime()
    errors: list[BaseException] = [ConnectionRefusedError(), OSError("unreachable"), PostgresError("57P03")]
    answer = await when_the_database_answers(failing(errors), wait_s=30, clock=time.clock, sleep=time.sleep)
    assert answer == "answered"
    assert time.slept == [0.25, 0.5, 1.0]  # doubling


async def test_the_wait_is_bounded() -> None:
    time = FakeTime()
    errors: list[BaseException] = [ConnectionRefusedError()] * 100
    with pytest.raises(DatabaseUnavailableError, match=r"^connection refused \(\d+ attempts in 10 s\)$"):
        await when_the_database_answers(failing(errors), wait_s=10, clock=time.clock, sleep=time.sleep)
    assert sum(time.slept) == pytest.approx(10)
    assert max(time.slept) == 2.0


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (PostgresError("28P01"), "refused the login"),
        (PostgresError("28000"), "refused the login"),
        (PostgresError("3D000"), "does not exist"),
        (TypeError("connect() got an unexpected keyword argument 'x'"), "query parameter"),
    ],
)
async def test_what_waiting_does_not_mend_ends_at_once(error: BaseException, reason: str) -> None:
    time = FakeTime()
    wrapped = RuntimeError("wrapper")  # as SQLAlchemy wraps the driver's error
    wrapped.__cause__ = error
    with pytest.raises(DatabaseUnavailableError, match=reason) as ended:
        await when_the_database_answers(failing([wrapped]), wait_s=30, clock=time.clock, sleep=time.sleep)
    assert time.slept == []
    assert "rp_runtime" not in str(ended.value)  # the driver's message (users, hosts) is never quoted


@pytest.mark.parametrize(
    ("error", "reason", "final"),
    [
        (ConnectionRefusedError(), "connection refused", False),
        (socket.gaierror(), "host name not found", False),
        (TimeoutError(), "RP_DB_CONNECT_TIMEOUT_S", False),
        (ssl.SSLCertVerificationError(), "certificate", True),
        (ssl.SSLError(), "TLS", False),
        (PostgresError("53300"), "too many connections", False),
        (ValueError("something else"), "ValueError", False),
    ],
)
def test_why_the_database_did_not_answer(error: BaseException, reason: str, final: bool) -> None:
    said, is_final = why_unavailable(error)
    assert reason in said
    assert is_final is final
