"""The ``rp-api`` command refuses unsafe or incomplete configurations before it starts anything."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from rp_api.cli import app

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
