"""The development issuer: a key kept in the data directory, tokens trusted only in dev and demo."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from rp_api.authz.dev_issuer import DevIssuer
from rp_api.authz.guard import build_verifier
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.principal import IssuerName
from rp_api.cli import app
from rp_api.demo import DEMO_USERS, write_demo_tokens
from rp_api.domain.actors import OrganisationType, Role
from rp_api.problems import InvalidAccessToken
from rp_api.settings import Environment, Settings

pytestmark = pytest.mark.usefixtures("clean_rp_environment")
runner = CliRunner()


def test_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    issuer = DevIssuer.in_data_dir(tmp_path)
    first = issuer.public_jwk()
    assert stat.S_IMODE(os.stat(issuer.key_path).st_mode) == 0o600
    assert DevIssuer.in_data_dir(tmp_path).public_jwk() == first
    assert "d" not in first


async def test_dev_tokens_are_trusted_in_dev_only(tmp_path: Path) -> None:
    registry = OrganisationRegistry.load()
    vdab = registry.find("VDAB")
    assert vdab is not None
    token = DevIssuer.in_data_dir(tmp_path).mint(vdab, [Role.LIST_MANAGER], user_ssin="85073003328")
    async with httpx.AsyncClient() as http:
        dev = build_verifier(Settings(env=Environment.DEV, dev_token_issuer=True, data_dir=tmp_path), http)
        principal = await dev.verify(token)
        assert principal.issuer is IssuerName.DEV
        assert principal.organisation_type is OrganisationType.REGIONAL_SERVICE
        assert principal.roles == {Role.LIST_MANAGER}

        for settings in (
            Settings(env=Environment.DEV, dev_token_issuer=False, data_dir=tmp_path),
            Settings(env=Environment.PROD, data_dir=tmp_path),
        ):
            with pytest.raises(InvalidAccessToken):
                await build_verifier(settings, http).verify(token)


async def test_demo_tokens_cover_every_type_and_verify(tmp_path: Path) -> None:
    registry = OrganisationRegistry.load()
    path = write_demo_tokens(tmp_path, registry)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert len(lines) == len(DEMO_USERS)
    async with httpx.AsyncClient() as http:
        verifier = build_verifier(Settings(env=Environment.DEMO, dev_token_issuer=True, data_dir=tmp_path), http)
        types = set()
        for line in lines:
            token = line.split("=", 1)[1].split()[0]
            types.add((await verifier.verify(token)).organisation_type)
    assert types == set(OrganisationType)


def test_token_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RP_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["token", "--org", "VDAB", "--role", "referenceAdvisor", "--lifetime", "600"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count(".") == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--org", "Nowhere", "--role", "nurse"], "unknown organisation"),
        (["--org", "VDAB", "--role", "medicalAdvisor"], "roles of a regionalService"),
        (["--org", "VDAB", "--role", "referenceAdvisor", "--ssin", "85073003329"], "check number"),
    ],
)
def test_token_command_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], message: str
) -> None:
    monkeypatch.setenv("RP_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["token", *arguments])
    assert result.exit_code == 2
    assert message in result.output
