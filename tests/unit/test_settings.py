"""Settings: safe production defaults, and unsafe switches refused outside dev and demo."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rp_api.settings import Environment, Settings, as_asyncpg_url

pytestmark = pytest.mark.usefixtures("clean_rp_environment")


def test_defaults_are_the_production_ones() -> None:
    settings = Settings()
    assert settings.env is Environment.PROD
    assert settings.debug is False
    assert settings.dev_token_issuer is False
    assert settings.database_url is None
    assert settings.host == "127.0.0.1"


@pytest.mark.parametrize("switch", ["RP_DEBUG", "RP_DEV_TOKEN_ISSUER"])
@pytest.mark.parametrize("env", ["prod", "acc", "test"])
def test_unsafe_switch_refused_outside_dev(monkeypatch: pytest.MonkeyPatch, switch: str, env: str) -> None:
    monkeypatch.setenv("RP_ENV", env)
    monkeypatch.setenv(switch, "true")
    with pytest.raises(ValidationError, match=switch):
        Settings()


@pytest.mark.parametrize("env", ["dev", "demo"])
def test_unsafe_switch_allowed_in_dev_and_demo(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.setenv("RP_ENV", env)
    monkeypatch.setenv("RP_DEBUG", "1")
    monkeypatch.setenv("RP_DEV_TOKEN_ISSUER", "1")
    settings = Settings()
    assert settings.debug
    assert settings.dev_token_issuer


def test_everything_comes_from_rp_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RP_DATABASE_URL", "postgresql://rp:secret@db.example:5432/rp")
    monkeypatch.setenv("RP_PORT", "9001")
    monkeypatch.setenv("RP_MAX_BODY_BYTES", "4096")
    settings = Settings()
    assert settings.port == 9001
    assert settings.max_body_bytes == 4096
    url = settings.sqlalchemy_url()
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port, url.database, url.password) == ("db.example", 5432, "rp", "secret")


def test_only_postgresql_is_accepted() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        as_asyncpg_url("sqlite:///rp.db")


def test_no_database_without_url_or_embedded_server() -> None:
    with pytest.raises(RuntimeError, match="RP_DATABASE_URL"):
        Settings().sqlalchemy_url()


def test_the_runtime_and_the_owner_role_are_two_roles() -> None:
    with pytest.raises(ValidationError, match="two different roles"):
        Settings(database_owner_role="rp", database_runtime_role="rp")
    with pytest.raises(ValidationError, match="database_runtime_role"):
        Settings(database_runtime_role="rp; DROP TABLE audit_event")


def test_migrations_use_their_own_url_else_the_service_s() -> None:
    settings = Settings(database_url="postgresql://rp_runtime:a@db:5432/rp")
    assert settings.migration_sqlalchemy_url().username == "rp_runtime"
    owner = settings.model_copy(update={"migration_database_url": "postgresql://rp_owner:b@db:5432/rp"})
    assert (owner.sqlalchemy_url().username, owner.migration_sqlalchemy_url().username) == ("rp_runtime", "rp_owner")


def test_on_the_embedded_server_the_runtime_role_serves_and_the_superuser_migrates() -> None:
    embedded = Settings(env=Environment.DEMO).with_embedded_server("postgresql://postgres:@/rp?host=/srv/pg")
    assert embedded.sqlalchemy_url().username == "rp_runtime"
    assert embedded.sqlalchemy_url().query == {"host": "/srv/pg"}
    assert embedded.migration_sqlalchemy_url().username == "postgres"
