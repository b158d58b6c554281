"""``rp-api serve --workers 2`` with ``RP_METRICS_PORT``: one metrics port serves the sum of both workers (the pool
sizes add up, every call is counted once whichever worker answered it), a worker that dies and is replaced leaves
its counts in the sum and its gauges out of it, and the directory of the workers' values is the run's own: made
fresh when the command starts (inside an inherited ``PROMETHEUS_MULTIPROC_DIR``), removed when it stops.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy.engine import URL

from tests.integration.test_metrics import Samples, scrape, value

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
POOL_SIZE = 3
LINK_CACHE_POOL_SIZE = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def workers(supervisor: subprocess.Popen[bytes]) -> set[int]:
    """The worker processes of the supervisor (uvicorn spawns them; multiprocessing's resource tracker is not one)."""
    return {
        child.pid
        for child in psutil.Process(supervisor.pid).children()
        if any("spawn_main" in part for part in child.cmdline())
    }


def pids_of(directory: Path, prefix: str) -> set[int]:
    """The processes that wrote values of kind ``prefix`` (``counter``, ``gauge_livesum``) in ``directory``."""
    found = (re.fullmatch(rf"{prefix}_(\d+)\.db", path.name) for path in directory.iterdir())
    return {int(match[1]) for match in found if match}


def _start(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """The command in a session of its own (a Ctrl-C on pytest does not reach it), its output in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )


def _read(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")


async def until(what: str, check: Callable[[], object], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
        except (httpx.HTTPError, OSError, psutil.Error):
            pass
        await asyncio.sleep(0.2)
    pytest.fail(f"{what}: not after {START_TIMEOUT_S} s\n{_read(log)}")


async def calls(port: int, count: int) -> None:
    """``count`` unauthenticated calls, each on a connection of its own (any worker may take it)."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False, limits=limits) as client:
        answers = await asyncio.gather(*(client.get("/rp/v1/me") for _ in range(count)))
    assert [answer.status_code for answer in answers] == [401] * count


def serve_environment(database: URL, tmp_path: Path, port: int, metrics_port: int, inherited: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RP_", "OTEL_", "PROMETHEUS_"))}
    return env | {
        "RP_ENV": "test",  # the audit keys are generated in the data directory
        "RP_DATA_DIR": str(tmp_path / "data"),
        "RP_DATABASE_URL": database.render_as_string(hide_password=False),
        "RP_HOST": "127.0.0.1",
        "RP_PORT": str(port),
        "RP_METRICS_PORT": str(metrics_port),
        "RP_DB_POOL_SIZE": str(POOL_SIZE),
        "RP_LINK_CACHE_POOL_SIZE": str(LINK_CACHE_POOL_SIZE),
        "RP_LOG_LEVEL": "WARNING",
        "RP_DB_STARTUP_WAIT_S": "10",
        "PROMETHEUS_MULTIPROC_DIR": str(inherited),
    }


async def test_two_workers_one_metrics_port_their_sum(own_database: URL, tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    inherited = tmp_path / "inherited"
    inherited.mkdir()
    env = serve_environment(own_database, tmp_path, port, metrics_port, inherited)
    log = tmp_path / "serve.log"
    command = [str(Path(sys.executable).parent / "rp-api"), "serve", "--workers", "2"]
    process = _start(command, env, tmp_path, log)
    latest: Samples = {}

    async def pools_add_up() -> bool:
        nonlocal latest
        _, latest = await scrape(metrics_port)
        return value(latest, "rp_db_pool_size_connections", pool="api") == 2 * POOL_SIZE and (
            value(latest, "rp_db_pool_size_connections", pool="linkCache") == 2 * LINK_CACHE_POOL_SIZE
        )

    try:
        await until("both workers up", lambda: len(workers(process)) == 2, log)
        (run,) = inherited.iterdir()  # the run's directory, inside the inherited one
        assert run.name.startswith("rp-api-metrics-")
        await until("both workers' pools in the sum", pools_add_up, log)
        assert value(latest, "rp_db_pool_size_connections", pool="linkCache") == 2 * LINK_CACHE_POOL_SIZE
        first = workers(process)
        assert pids_of(run, "counter") >= first  # both write their values there

        await calls(port, 10)

        # A worker dies: the supervisor replaces it; its counts stay, its gauges go.
        dead = min(first)
        os.kill(dead, signal.SIGKILL)
        await until("a replacement worker", lambda: len(workers(process) - first) == 1, log)
        (replacement,) = workers(process) - first
        await until("the replacement's pool", lambda: replacement in pids_of(run, "gauge_livesum"), log)
        await until("the dead worker's gauges gone", lambda: dead not in pids_of(run, "gauge_livesum"), log)
        await until("the two live workers' pools, and only theirs, in the sum", pools_add_up, log)
        await calls(port, 10)
        _, latest = await scrape(metrics_port)
        assert value(latest, "rp_http_requests_total", method="GET", route="/rp/v1/me", status="401") == 20
        assert value(latest, "rp_http_request_duration_seconds_count", method="GET", route="/rp/v1/me") == 20
        assert dead in pids_of(run, "counter")  # what it counted is still in the sum

        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT_S)
    output = _read(log)
    assert returncode == -signal.SIGTERM, output
    assert f"metrics on http://127.0.0.1:{metrics_port}/metrics" in output
    assert "Traceback" not in output
    assert list(inherited.iterdir()) == []  # the run's directory is gone, the inherited one left as it was
    with pytest.raises(httpx.ConnectError):
        await scrape(metrics_port)


async def test_one_worker_serves_its_own_registry(own_database: URL, tmp_path: Path) -> None:
    """With one worker the app serves its process's metrics (its CPU and memory too), and writes nothing in an
    inherited ``PROMETHEUS_MULTIPROC_DIR`` (which would otherwise gather stale files from run to run)."""
    port, metrics_port = free_port(), free_port()
    inherited = tmp_path / "inherited"
    inherited.mkdir()
    env = serve_environment(own_database, tmp_path, port, metrics_port, inherited)
    log = tmp_path / "serve.log"
    process = _start([str(Path(sys.executable).parent / "rp-api"), "serve", "--workers", "1"], env, tmp_path, log)
    try:
        await until("serving", lambda: httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200, log)
        await calls(port, 3)
        _, samples = await scrape(metrics_port)
        assert value(samples, "rp_http_requests_total", method="GET", route="/rp/v1/me", status="401") == 3
        assert value(samples, "rp_db_pool_size_connections", pool="api") == POOL_SIZE
        assert value(samples, "process_resident_memory_bytes") > 0
        assert list(inherited.iterdir()) == []
        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT_S)
    assert returncode == -signal.SIGTERM, _read(log)
    with pytest.raises(httpx.ConnectError):
        await scrape(metrics_port)
