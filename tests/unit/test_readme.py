"""The README opens with the two commands a newcomer types, CI runs the second one, and the configuration table
names every setting."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from pydantic import BaseModel

from rp_api.settings import Settings


def sh_blocks(readme: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL)


def test_readme_opens_with_demo_then_tests(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    first_two = sh_blocks(readme)[:2]
    assert len(first_two) == 2
    demo, tests = (block.strip() for block in first_two)
    assert "\n" not in demo
    assert "\n" not in tests
    assert demo.endswith("rp-api demo")
    assert tests.endswith(".venv/bin/pytest")
    for check in ("ruff check", "ruff format --check", "mypy"):
        assert check in tests
    # Nothing but a title and one sentence before the first command.
    assert readme.index("```sh") < 200


def test_ci_runs_the_readme_test_command(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    expected = sh_blocks(readme)[1].strip()
    extracted = subprocess.run(
        ["bash", "-c", "awk '/^```sh$/ { blocks++; getline; if (blocks == 2) { print; exit } }' README.md"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert extracted == expected
    assert "awk '/^```sh$/" in (repo_root / ".ci" / "run").read_text(encoding="utf-8")


def test_configuration_table_names_every_setting(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    expected: list[str] = []
    for name, field in Settings.model_fields.items():
        variable = f"RP_{name.upper()}"
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            expected.append(f"`{variable}__*`")
            expected.extend(f"`…__{sub.upper()}`" for sub in field.annotation.model_fields)
        else:
            expected.append(f"`{variable}`")
    missing = [entry for entry in expected if entry not in readme]
    assert not missing, f"README configuration tables miss {missing}"
