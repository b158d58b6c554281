"""A configuration error is one line on stderr that names the variable and what is wrong with it, never the value
it was given, and the command exits with code 2.

Every URL-bearing variable carries a password in every case here (the database URLs, the authentic sources, the
identity providers' key URLs and issuers): none of them may appear in what the command prints, whatever the error.
pydantic echoes the input of a failed validation; SQLAlchemy quotes a URL it cannot parse; these did before.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from rp_api.cli import app
from rp_api.settings import (
    ConfigurationError,
    Settings,
    UpstreamSettings,
    as_asyncpg_url,
    configuration_error,
    load_settings,
)

pytestmark = pytest.mark.usefixtures("clean_rp_environment")

PASSWORD = f"Pw9-{secrets.token_hex(6)}-s3cr%40t"
"""URL-encoded as written in the URLs (``%40`` is ``@``): neither form may be printed."""
SECRETS = (PASSWORD, urllib.parse.unquote(PASSWORD), PASSWORD.split("-")[1])

SOURCES = ("NATIONAL_REGISTER", "MEMBER_DATA", "DIMONA", "SEED_CONNECT", "JOB_SEEKER", "PSEUDONYMISATION", "TRIO")
PROVIDERS = ("UMAN_EHEALTH", "UMAN_BCSS", "INAMI_INTERNAL")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe is: nothing listens there


def valid_environment(data_dir: Path) -> dict[str, str]:
    """A configuration that loads, with a password in every URL-bearing variable; its database does not answer."""
    env = {
        "RP_ENV": "test",
        "RP_DATA_DIR": str(data_dir),
        "RP_DATABASE_URL": f"postgresql://rp_runtime:{PASSWORD}@127.0.0.1:{_closed_port()}/rp",
        "RP_MIGRATION_DATABASE_URL": f"postgresql://rp_owner:{PASSWORD}@127.0.0.1:{_closed_port()}/rp",
        "RP_DB_STARTUP_WAIT_S": "0.3",
    }
    for source in SOURCES:
        env[f"RP_UPSTREAM__{source}_URL"] = f"https://rp:{PASSWORD}@{source.lower()}.example/v1"
    for provider in PROVIDERS:
        env[f"RP_{provider}__ISSUER"] = f"https://rp:{PASSWORD}@{provider.lower()}.example/"
        env[f"RP_{provider}__JWKS_URL"] = f"https://rp:{PASSWORD}@{provider.lower()}.example/jwks"
    return env


ERRORS: list[tuple[str, dict[str, str], str, str]] = [
    # (case, variables changed, the variable the line must name, words it must say)
    ("dev issuer in prod", {"RP_ENV": "prod", "RP_DEV_TOKEN_ISSUER": "true"}, "RP_DEV_TOKEN_ISSUER", "dev or demo"),
    ("debug in acc", {"RP_ENV": "acc", "RP_DEBUG": "1"}, "RP_DEBUG", "dev or demo"),
    ("unknown environment", {"RP_ENV": "production"}, "RP_ENV", "'prod'"),
    ("not PostgreSQL", {"RP_DATABASE_URL": f"mysql://rp:{PASSWORD}@db/rp"}, "RP_DATABASE_URL", "only PostgreSQL"),
    ("not a URL", {"RP_DATABASE_URL": f"rp {PASSWORD} db"}, "RP_DATABASE_URL", "not a URL"),
    ("port not a number", {"RP_DATABASE_URL": f"postgresql://rp:{PASSWORD}@db:5x/rp"}, "RP_DATABASE_URL", "not a URL"),
    ("port out of range", {"RP_DATABASE_URL": f"postgres://rp:{PASSWORD}@db:70000/rp"}, "RP_DATABASE_URL", "port"),
    (
        "unknown sslmode",
        {"RP_DATABASE_URL": f"postgresql://rp:{PASSWORD}@db/rp?sslmode=sometimes"},
        "RP_DATABASE_URL",
        "sslmode must be one of",
    ),
    (
        "certificate in the URL",
        {"RP_MIGRATION_DATABASE_URL": f"postgresql://rp:{PASSWORD}@db/rp?sslmode=verify-full&sslrootcert=/ca.pem"},
        "RP_MIGRATION_DATABASE_URL",
        "PGSSLROOTCERT",
    ),
    (
        "bad migration URL",
        {"RP_MIGRATION_DATABASE_URL": f"sqlite:///{PASSWORD}.db"},
        "RP_MIGRATION_DATABASE_URL",
        "only PostgreSQL",
    ),
    (
        "source not http",
        {"RP_UPSTREAM__DIMONA_URL": f"ftp://rp:{PASSWORD}@dimona.example/"},
        "RP_UPSTREAM__DIMONA_URL",
        "http",
    ),
    (
        "source port",
        {"RP_UPSTREAM__TRIO_URL": f"https://rp:{PASSWORD}@trio.example:port/"},
        "RP_UPSTREAM__TRIO_URL",
        "not a valid URL",
    ),
    (
        "key URL without host",
        {"RP_UMAN_BCSS__JWKS_URL": f"https://rp:{PASSWORD}@/jwks"},
        "RP_UMAN_BCSS__JWKS_URL",
        "host",
    ),
    (
        "malformed JSON object",
        {"RP_UPSTREAM": f'{{"dimona_url": "https://rp:{PASSWORD}@dimona.example/'},
        "RP_UPSTREAM",
        "not valid JSON",
    ),
    ("malformed JSON of a nested variable", {"RP_SIMULATOR__FAULTS": '{"dimona": '}, "RP_SIMULATOR__FAULTS", "JSON"),
    ("malformed JSON list", {"RP_UMAN_EHEALTH__ALGORITHMS": '["RS256"'}, "RP_UMAN_EHEALTH__ALGORITHMS", "JSON"),
    ("not a number", {"RP_PORT": "eighty"}, "RP_PORT", "integer"),
    ("out of bounds", {"RP_UPSTREAM__TIMEOUT_S": "-1"}, "RP_UPSTREAM__TIMEOUT_S", "greater than 0"),
    ("issuer without keys", {"RP_UMAN_BCSS__JWKS_URL": ""}, "RP_UMAN_BCSS__*", "jwks_url or jwks_file"),
    ("database refused", {}, "RP_DATABASE_URL", "connection refused"),
    ("database not found", {"RP_DATABASE_URL": f"postgresql://rp:{PASSWORD}@db.invalid/rp"}, "RP_DATABASE_URL", "host"),
]


def environment(tmp_path: Path, changes: dict[str, str]) -> dict[str, str | None]:
    """The valid environment with ``changes``; an empty value unsets the variable."""
    return {name: value or None for name, value in (valid_environment(tmp_path) | changes).items()}


def assert_one_safe_line(output: str, variable: str, words: str) -> None:
    lines = output.splitlines()
    assert len(lines) == 1, output
    assert variable in lines[0]
    assert words in lines[0]
    for secret in SECRETS:
        assert secret not in output


@pytest.mark.parametrize(("case", "changes", "variable", "words"), ERRORS, ids=[e[0] for e in ERRORS])
def test_serve_says_what_is_wrong_in_one_line_without_any_value(
    tmp_path: Path, case: str, changes: dict[str, str], variable: str, words: str
) -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "1"], env=environment(tmp_path, changes))
    assert result.exit_code == 2, (result.output, result.exception)
    assert_one_safe_line(result.output, variable, words)


@pytest.mark.parametrize("command", [["migrate"], ["purge", "--dry-run"], ["audit", "verify"], ["token", "--org", "X"]])
@pytest.mark.parametrize(("case", "changes", "variable", "words"), ERRORS[:19:3], ids=[e[0] for e in ERRORS[:19:3]])
def test_every_command_says_it_the_same_way(
    tmp_path: Path, command: list[str], case: str, changes: dict[str, str], variable: str, words: str
) -> None:
    arguments = [*command, "--role", "x"] if "token" in command else command
    result = CliRunner().invoke(app, arguments, env=environment(tmp_path, changes))
    assert result.exit_code == 2, (result.output, result.exception)
    assert_one_safe_line(result.output, variable, words)


def test_migrate_gives_an_unreachable_database_the_same_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["migrate"], env=valid_environment(tmp_path))
    assert result.exit_code == 2, (result.output, result.exception)
    assert_one_safe_line(result.output, "RP_MIGRATION_DATABASE_URL", "connection refused")


def test_in_a_real_process_stderr_is_the_one_line_and_stdout_is_empty(tmp_path: Path) -> None:
    """No log handler, warning or traceback of a library adds to it (CliRunner would not show those)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)} | valid_environment(tmp_path)
    env["RP_DATABASE_URL"] = f"postgresql://rp:{PASSWORD}@db:5x/rp?sslmode=require"
    env["RP_UPSTREAM"] = "{"
    done = subprocess.run(
        [sys.executable, "-c", "from rp_api.cli import main; main()", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert_one_safe_line(done.stderr, "RP_UPSTREAM", "not valid JSON")


def test_every_problem_is_named_in_the_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in valid_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RP_DATABASE_URL", f"mysql://rp:{PASSWORD}@db/rp")
    monkeypatch.setenv("RP_PORT", "0")
    monkeypatch.setenv("RP_UPSTREAM__JOB_SEEKER_URL", f"file://rp:{PASSWORD}@x/")
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    line = str(refused.value)
    assert "\n" not in line
    for variable in ("RP_DATABASE_URL", "RP_PORT", "RP_UPSTREAM__JOB_SEEKER_URL"):
        assert variable in line
    assert PASSWORD not in line


def test_a_password_that_still_reaches_the_line_is_blanked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last guard: whatever a future message would quote, the password of an RP_* URL is not printed."""
    monkeypatch.setenv("RP_MIGRATION_DATABASE_URL", f"postgresql://rp:{PASSWORD}@db/rp")
    quoting = ValidationError.from_exception_data(
        "Settings",
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", f"a message quoting {PASSWORD} and {SECRETS[1]}"),
                loc=("database_url",),
                input="",
            )
        ],
    )
    line = configuration_error(quoting)
    assert line.startswith("RP_DATABASE_URL: a message quoting ")
    for secret in SECRETS:
        assert secret not in line


def test_the_warning_when_no_identity_provider_is_configured(tmp_path: Path) -> None:
    env = {k: v for k, v in valid_environment(tmp_path).items() if "__ISSUER" not in k and "__JWKS" not in k}
    result = CliRunner().invoke(app, ["serve", "--workers", "1"], env=env)
    assert result.exit_code == 2  # then the database does not answer
    warning, error = result.output.splitlines()
    assert "warning: no identity provider is configured" in warning
    assert all(f"RP_{provider}__ISSUER" in warning for provider in PROVIDERS)
    assert "RP_DATABASE_URL" in error
    configured = CliRunner().invoke(app, ["serve", "--workers", "1"], env=valid_environment(tmp_path))
    assert "identity provider" not in configured.output


# --- libpq-style URLs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
def test_libpq_sslmode_becomes_the_drivers_ssl(mode: str) -> None:
    url = as_asyncpg_url(f"postgresql://rp:pw@db.example:5432/rp?sslmode={mode}&target_session_attrs=read-write")
    assert url.drivername == "postgresql+asyncpg"
    assert dict(url.query) == {"ssl": mode, "target_session_attrs": "read-write"}
    _, arguments = create_async_engine(url).dialect.create_connect_args(url)
    assert arguments["ssl"] == mode  # what asyncpg.connect receives (it has no sslmode argument)
    assert "sslmode" not in arguments


def test_postgres_scheme_and_settings_accept_sslmode() -> None:
    settings = Settings(database_url="postgres://rp:pw@db.example/rp?sslmode=require")
    assert settings.sqlalchemy_url().query == {"ssl": "require"}
    assert settings.database_url == "postgres://rp:pw@db.example/rp?sslmode=require"  # kept as written


def test_sources_accept_http_and_https_urls() -> None:
    sources = UpstreamSettings(dimona_url="http://127.0.0.1:8001/daas/dimona/v1", trio_url="https://trio.example")
    assert sources.dimona_url == "http://127.0.0.1:8001/daas/dimona/v1"
    assert sources.with_base("http://simulator.test").member_data_url == "http://simulator.test/cin/memberdata/v1"
