"""Helpers for tests that run the service as real processes (``rp-api serve``) rather than in the test's loop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """The command in a session of its own (a Ctrl-C on pytest does not reach it), its output in ``log``."""
    with log.open("wb") as err:
        return subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True
        )


def read(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")


async def wait_until_up(process: subprocess.Popen[bytes], port: int, log: Path) -> object:
    """``/health``'s answer once the process serves it; the test fails if it exits or is not up in time."""
    deadline = time.monotonic() + START_TIMEOUT_S
    async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"rp-api serve exited with {process.returncode}:\n{read(log)}")
            try:
                answer = await client.get(f"http://127.0.0.1:{port}/health")
                if answer.status_code == 200:
                    return answer.json()
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"rp-api serve not up after {START_TIMEOUT_S} s:\n{read(log)}")


async def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then the exit code (SIGKILL to the whole session if it does not stop in time)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait(STOP_TIMEOUT_S)
