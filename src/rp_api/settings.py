"""Every knob of API RP, read from ``RP_*`` environment variables (pydantic-settings).

The defaults are the safe production ones: no debug, no development token issuer, no embedded database.
A configuration that is only acceptable on a developer's machine refuses to load unless ``RP_ENV`` says
``dev`` or ``demo``. A configuration that does not load is described by :func:`configuration_error` in one line
that names each variable and what is wrong with it, never the value it was given (a URL carries a password).
"""

from __future__ import annotations

import enum
import json
import os
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


class Environment(enum.StrEnum):
    """Where the service runs; only ``dev`` and ``demo`` may relax production safeguards."""

    PROD = "prod"
    ACCEPTANCE = "acc"
    TEST = "test"
    DEV = "dev"
    DEMO = "demo"

    @property
    def is_local(self) -> bool:
        return self in (Environment.DEV, Environment.DEMO)


class UnsafeConfigurationError(ValueError):
    """A setting meant for a developer's machine was switched on outside ``dev`` or ``demo``."""


SigningAlgorithm = Literal["RS256", "PS256", "ES256"]
"""The only signature algorithms ever accepted: never ``none``, never an HMAC algorithm."""


def _http_url(value: str) -> str:
    """An ``http://`` or ``https://`` URL with a host; the error never quotes the value (it may hold a password)."""
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number of 0-65535
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http:// or https:// URL with a host")
    return value


HttpUrlText = Annotated[str, AfterValidator(_http_url)]
"""A URL of an HTTP service, kept as written."""


class IssuerSettings(BaseModel):
    """One identity provider whose Bearer tokens API RP trusts. Without ``issuer`` it is switched off."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    issuer: str | None = Field(default=None, description="Expected `iss` claim (the provider's issuer URI).")
    audience: str = Field(default="rp-api", description="Expected `aud` claim.")
    jwks_url: HttpUrlText | None = Field(default=None, description="Where the provider publishes its keys (JWKS).")
    jwks_file: Path | None = Field(default=None, description="A local JWKS file, instead of the URL.")
    algorithms: tuple[SigningAlgorithm, ...] = Field(default=("RS256", "PS256", "ES256"), min_length=1)
    leeway_s: int = Field(default=30, ge=0, le=300, description="Clock skew tolerated on exp, nbf and iat.")
    roles_claim: str = Field(default="roles", description="Claim that lists the user's roles.")

    @model_validator(mode="after")
    def _keys_are_reachable(self) -> IssuerSettings:
        if self.issuer and not (self.jwks_url or self.jwks_file):
            raise ValueError("an issuer needs jwks_url or jwks_file")
        return self

    @property
    def enabled(self) -> bool:
        return self.issuer is not None


class UpstreamSettings(BaseModel):
    """Base URLs of the authentic sources. Unset: every decision that needs the source is a deny (503)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    national_register_url: HttpUrlText | None = Field(default=None, description="National Register via CBSS.")
    member_data_url: HttpUrlText | None = Field(default=None, description="CIN MemberData.")
    dimona_url: HttpUrlText | None = Field(default=None, description="Dimona via DAAS.")
    seed_connect_url: HttpUrlText | None = Field(default=None, description="SEED-Connect via DAAS.")
    job_seeker_url: HttpUrlText | None = Field(default=None, description="JobSeeker via DAAS.")
    pseudonymisation_url: HttpUrlText | None = Field(default=None, description="eHealth blinded pseudonymisation.")
    trio_url: HttpUrlText | None = Field(default=None, description="INAMI's TRIO platform.")
    trio_domain: str = Field(default="trio", description="TRIO's pseudonymisation domain.")
    timeout_s: float = Field(default=2.0, gt=0, le=30, description="Time bound of one upstream attempt.")
    retries: int = Field(default=2, ge=0, le=5, description="Extra attempts of an idempotent call.")
    backoff_s: float = Field(default=0.05, ge=0, le=5, description="First retry delay (doubles each time).")

    def with_base(self, base: str) -> UpstreamSettings:
        """Every source under one base URL (the simulator)."""
        base = base.rstrip("/")
        return self.model_copy(
            update={
                "national_register_url": f"{base}/cbss/nr/v1",
                "member_data_url": f"{base}/cin/memberdata/v1",
                "dimona_url": f"{base}/daas/dimona/v1",
                "seed_connect_url": f"{base}/daas/seedconnect/v1",
                "job_seeker_url": f"{base}/daas/jobseeker/v1",
                "pseudonymisation_url": f"{base}/ehealth/pseudo/v1",
                "trio_url": f"{base}/trio/v1",
            }
        )


SimulatedService = Literal[
    "nationalRegister", "memberData", "dimona", "seedConnect", "jobSeeker", "pseudonymisation", "trio"
]
Fault = Literal["none", "error", "timeout", "malformed"]


class SimulatorSettings(BaseModel):
    """The fake authentic sources of `rp-api simulator` and `rp-api demo`."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8001, ge=1, le=65535)
    latency_ms: int = Field(default=0, ge=0, le=60_000, description="Added to every answer of every source.")
    faults: dict[SimulatedService, Fault] = Field(
        default_factory=dict, description='Per source: {"dimona": "timeout"} (error, timeout, malformed).'
    )
    population_size: int = Field(default=240, ge=20, le=100_000)
    seed: int = Field(default=26060)


_ROLE = r"^[a-z_][a-z0-9_]{0,62}$"
"""A PostgreSQL role name the migrations can use unquoted."""


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("rp-api", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RP_",
        env_nested_delimiter="__",
        env_file=None,
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # an error never echoes what was given: URLs carry passwords
    )

    env: Environment = Field(default=Environment.PROD, description="prod, acc, test, dev or demo.")
    debug: bool = Field(default=False, description="Verbose logs of SQL and internals; dev/demo only.")
    dev_token_issuer: bool = Field(
        default=False, description="Trust tokens signed by the local development key; dev/demo only."
    )

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of the runtime role (postgresql://user:password@host:5432/db), the one `rp-api "
        "serve` uses: it may append to the audit log and read it, nothing more. Unset: embedded server (dev and demo "
        "only).",
    )
    migration_database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL `rp-api migrate` uses: the owner role, or a role that may act as it (SET ROLE). "
        "Unset: RP_DATABASE_URL (with the embedded server: its superuser, which creates the two roles).",
    )
    database_owner_role: str = Field(
        default="rp_owner",
        pattern=_ROLE,
        description="The role that owns every table and function (the migrations run as it).",
    )
    database_runtime_role: str = Field(
        default="rp_runtime",
        pattern=_ROLE,
        description="The role the service runs as; the migrations grant it what it needs, and nothing on the audit "
        "log but SELECT and the two functions that append and keep partitions.",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the embedded PostgreSQL and the development keys live; kept between runs.",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Connections kept per API process: size it to the requests a process serves at once. Above it, "
        "a connection is opened for one request and closed after it (SQLAlchemy's overflow), ~50-100 ms under load: "
        "with 10 kept and 16 requests at once, that made the p99 of a warm dossier GET ~4 times its median.",
    )
    db_pool_max_overflow: int = Field(default=10, ge=0, le=200)
    db_pool_pre_ping: bool = Field(
        default=False,
        description="Test each connection when it leaves the pool (one more round trip per request). Off: after a "
        "database restart the first call on a stale connection fails, and the pool is renewed.",
    )
    db_statement_timeout_ms: int = Field(default=10_000, ge=100, description="Per statement, in ms.")
    db_connect_timeout_s: float = Field(default=5.0, gt=0)
    db_startup_wait_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="How long `rp-api serve` and `rp-api migrate` keep trying a database that does not answer at "
        "start-up (refused, unreachable, starting) before they exit with code 2; a refused login or a missing "
        "database ends it at once.",
    )

    host: str = Field(default="127.0.0.1", description="Address `rp-api serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535)
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port of the Prometheus metrics endpoint, on RP_HOST (with several workers, the aggregate of "
        "all of them). Unset: no metrics endpoint.",
    )
    otlp_endpoint: HttpUrlText | None = Field(
        default=None,
        description="Base URL of an OpenTelemetry collector (OTLP over HTTP, e.g. http://collector:4318): spans go "
        "to its /v1/traces. Unset: the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT; "
        "none of them: no tracing.",
    )

    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body accepted.")
    http_timeout_s: float = Field(default=5.0, gt=0, description="Time bound of every outbound call.")
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")

    uman_ehealth: IssuerSettings = Field(
        default_factory=IssuerSettings, description="UMAN eHealth: insurers and prevention services."
    )
    uman_bcss: IssuerSettings = Field(
        default_factory=IssuerSettings, description="UMAN BCSS: VDAB, Forem, Actiris, ADG."
    )
    inami_internal: IssuerSettings = Field(default_factory=IssuerSettings, description="INAMI's own provider.")
    jwks_refresh_interval_s: float = Field(
        default=60.0, ge=1, description="Least time between two key fetches caused by an unknown `kid`."
    )
    token_cache_size: int = Field(default=10_000, ge=0, description="Verified tokens remembered until exp.")
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings, description="The authentic sources.")
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings, description="The demo's fake sources.")
    link_cache_ttl_s: int = Field(
        default=86_400, ge=0, le=86_400, description="How long fetched person links are reused (24 h at most)."
    )
    link_cache_memory_entries: int = Field(
        default=20_000,
        ge=0,
        le=1_000_000,
        description="Answers each process also keeps in memory (least recently used out; same time to live); 0: none.",
    )
    link_cache_pool_size: int = Field(
        default=5, ge=1, le=100, description="Connections of the link cache's own pool (plus as many in overflow)."
    )
    link_cache_purge_interval_s: float = Field(
        default=900, ge=1, description="How often expired person links are removed from the cache."
    )
    audit_retention_months: int = Field(
        default=120,
        ge=1,
        le=600,
        description="Months of audit records kept; older monthly partitions are dropped. `rp-api migrate` also "
        "gives it to the database, which refuses to drop a younger partition whatever the service asks.",
    )
    audit_key_file: Path | None = Field(
        default=None,
        description="The audit MAC keys, one a line (`<key id> <base64 key>`, the current first). Required outside "
        "dev, demo and test; there, generated in RP_DATA_DIR/audit/ when missing.",
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description="The Ed25519 key(s) that sign audit checkpoints (PEM; the first private key signs, every key "
        "verifies). Required outside dev, demo and test; there, generated in RP_DATA_DIR/audit/ when missing.",
    )
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description="Where signed audit checkpoints are appended. Unset: RP_DATA_DIR/audit/checkpoints.jsonl.",
    )
    audit_checkpoint_interval_s: float = Field(
        default=60, ge=1, le=3600, description="How often the service signs the heads of the audit chains."
    )
    idempotency_retention_days: int = Field(
        default=7, ge=1, le=90, description="Days an Idempotency-Key is remembered."
    )
    purge_interval_s: float = Field(
        default=3600, ge=10, description="How often the service purges expired dossier data."
    )
    organisations_file: Path | None = Field(
        default=None, description="Organisation registry (JSON); unset: the one shipped in the package."
    )

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _postgresql_url(cls, value: str | None) -> str | None:
        if value is not None:
            as_asyncpg_url(value)  # its errors never quote the URL
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_outside_dev(self) -> Settings:
        if self.env.is_local:
            return self
        unsafe = [name for name, on in (("RP_DEBUG", self.debug), ("RP_DEV_TOKEN_ISSUER", self.dev_token_issuer)) if on]
        if unsafe:
            raise UnsafeConfigurationError(f"{', '.join(unsafe)} may only be switched on when RP_ENV is dev or demo")
        return self

    @property
    def has_identity_provider(self) -> bool:
        """Whether some caller can be authenticated: a provider with an issuer, or the development issuer where
        it is trusted (dev and demo)."""
        providers = (self.uman_ehealth, self.uman_bcss, self.inami_internal)
        return any(provider.enabled for provider in providers) or (self.env.is_local and self.dev_token_issuer)

    @model_validator(mode="after")
    def _metrics_on_a_port_of_their_own(self) -> Settings:
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ValueError("RP_METRICS_PORT must be another port than RP_PORT")
        return self

    @model_validator(mode="after")
    def _two_roles(self) -> Settings:
        if self.database_owner_role == self.database_runtime_role:
            raise ValueError("RP_DATABASE_OWNER_ROLE and RP_DATABASE_RUNTIME_ROLE must be two different roles")
        return self

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir / "pgdata"

    def sqlalchemy_url(self, embedded_url: str | None = None) -> URL:
        """The asyncpg URL of the configured database, or of the embedded server when none is configured."""
        raw = self.database_url or embedded_url
        if raw is None:
            raise RuntimeError("no database: set RP_DATABASE_URL, or start the embedded server first")
        return as_asyncpg_url(raw)

    def migration_sqlalchemy_url(self) -> URL:
        """The asyncpg URL `rp-api migrate` uses: RP_MIGRATION_DATABASE_URL, else RP_DATABASE_URL."""
        if self.migration_database_url is not None:
            return as_asyncpg_url(self.migration_database_url)
        return self.sqlalchemy_url()

    def with_embedded_server(self, server_url: str) -> Settings:
        """The settings on the embedded server: the runtime role serves, the server's superuser migrates (it
        creates the two roles; the migrations then run as the owner role)."""
        runtime = make_url(server_url).set(username=self.database_runtime_role, password=None)
        return self.model_copy(
            update={
                "database_url": runtime.render_as_string(hide_password=False),
                "migration_database_url": server_url,
            }
        )


_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_CERTIFICATE_PARAMETERS = {
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "sslpassword": "PGSSLPASSWORD",
}
"""libpq's certificate parameters, which the driver takes from these environment variables instead."""


def as_asyncpg_url(raw: str) -> URL:
    """Accept ``postgresql://`` or ``postgres://`` (libpq style, ``?sslmode=…`` included) or
    ``postgresql+asyncpg://``, and return the asyncpg form (libpq's ``sslmode`` is asyncpg's ``ssl``).

    Errors say what is wrong, never quoting the URL: it holds a password."""
    try:
        url = make_url(raw)
        port = url.port
    except (ArgumentError, ValueError):
        raise ValueError("not a URL of the form postgresql://user:password@host:5432/database") from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError("only PostgreSQL is supported (postgresql://user:password@host:5432/database)")
    if port is not None and not 1 <= port <= 65535:
        raise ValueError("the port must be 1 to 65535")
    query = dict(url.query)
    for name, variable in _CERTIFICATE_PARAMETERS.items():
        if name in query:
            raise ValueError(f"{name} in the URL is not supported: set the environment variable {variable} instead")
    if "sslmode" in query:
        if "ssl" in query:
            raise ValueError("sslmode and ssl are both given: keep one")
        query["ssl"] = query.pop("sslmode")
    if "ssl" in query and query["ssl"] not in _SSL_MODES:
        raise ValueError(f"sslmode must be one of {', '.join(_SSL_MODES)}")
    return url.set(drivername="postgresql+asyncpg", query=query)


# --- configuration errors, in one line -------------------------------------------------------------------------

_PREFIX = "RP_"
_NESTING = "__"


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable of an error's location: the setting's path through the models, never a key or
    an index of a value (``RP_SIMULATOR__FAULTS``, not the source a JSON object named)."""
    names: list[str] = []
    model: type[BaseModel] | None = Settings
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            break
        names.append(part.upper())
        annotation = model.model_fields[part].annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    if not names:
        return "the configuration"
    variable = _PREFIX + _NESTING.join(names)
    return f"{variable}{_NESTING}*" if model is not None else variable


def _malformed_json_variables(field: str) -> list[str]:
    """The ``RP_<FIELD>`` and ``RP_<FIELD>__…`` variables of the environment whose text is meant as JSON (an
    object or a list) but does not parse."""
    prefix = f"{_PREFIX}{field.upper()}"
    found = []
    for name, value in os.environ.items():
        upper = name.upper()
        if upper != prefix and not upper.startswith(prefix + _NESTING):
            continue
        if value.lstrip()[:1] in ("{", "["):
            try:
                json.loads(value)
            except ValueError:
                found.append(upper)
    return sorted(found)


def _problems(exc: ValidationError | SettingsError) -> Iterator[str]:
    if isinstance(exc, SettingsError):
        field = re.search(r'field "([a-z_]+)"', str(exc))
        if field is None:
            yield "an RP_* variable could not be read"
            return
        variables = _malformed_json_variables(field[1]) or [f"{_PREFIX}{field[1].upper()}"]
        for variable in variables:
            yield f"{variable}: not valid JSON"
        return
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        loc = tuple(error["loc"])
        yield message if not loc else f"{_variable(loc)}: {message}"


def _secrets_in_environment() -> Iterator[str]:
    """Passwords written in the URLs of ``RP_*`` variables (``scheme://user:password@host``)."""
    for name, value in os.environ.items():
        if not name.upper().startswith(_PREFIX):
            continue
        for match in re.finditer(r"://[^:/@\s]*:([^@]+)@", value):  # SQLAlchemy's and libpq's reading
            yield match[1]
            yield urllib.parse.unquote(match[1])


def configuration_error(exc: ValidationError | SettingsError) -> str:
    """One line naming each variable in error and what is wrong with it, never the value it was given (messages
    are pydantic's, without the input, or ours, which quote none; a password of an ``RP_*`` URL that would still
    appear is blanked)."""
    seen: dict[str, None] = {}
    for problem in _problems(exc):
        seen.setdefault(" ".join(problem.split()), None)
    line = "; ".join(seen) or "the configuration is not valid"
    for secret in sorted(set(_secrets_in_environment()), key=len, reverse=True):
        if len(secret) >= 3:
            line = line.replace(secret, "***")
    return line


class ConfigurationError(ValueError):
    """The ``RP_*`` variables do not make a valid configuration; the message is one line and quotes no value."""


def load_settings(**overrides: Any) -> Settings:
    """The settings of the environment (and ``overrides``); raises :class:`ConfigurationError` with one line."""
    try:
        return Settings(**overrides)
    except (ValidationError, SettingsError) as exc:
        raise ConfigurationError(configuration_error(exc)) from None
