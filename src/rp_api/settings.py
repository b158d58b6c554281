"""Every knob of API RP, read from ``RP_*`` environment variables (pydantic-settings).

The defaults are the safe production ones: no debug, no development token issuer, no embedded database.
A configuration that is only acceptable on a developer's machine refuses to load unless ``RP_ENV`` says
``dev`` or ``demo``.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url


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


class IssuerSettings(BaseModel):
    """One identity provider whose Bearer tokens API RP trusts. Without ``issuer`` it is switched off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str | None = Field(default=None, description="Expected `iss` claim (the provider's issuer URI).")
    audience: str = Field(default="rp-api", description="Expected `aud` claim.")
    jwks_url: str | None = Field(default=None, description="Where the provider publishes its keys (JWKS).")
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

    model_config = ConfigDict(frozen=True, extra="forbid")

    national_register_url: str | None = Field(default=None, description="National Register via CBSS.")
    member_data_url: str | None = Field(default=None, description="CIN MemberData.")
    dimona_url: str | None = Field(default=None, description="Dimona via DAAS.")
    seed_connect_url: str | None = Field(default=None, description="SEED-Connect via DAAS.")
    job_seeker_url: str | None = Field(default=None, description="JobSeeker via DAAS.")
    pseudonymisation_url: str | None = Field(default=None, description="eHealth blinded pseudonymisation.")
    trio_url: str | None = Field(default=None, description="INAMI's TRIO platform.")
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

    model_config = ConfigDict(frozen=True, extra="forbid")

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
        env_prefix="RP_", env_nested_delimiter="__", env_file=None, extra="ignore", frozen=True
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

    host: str = Field(default="127.0.0.1", description="Address `rp-api serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535)

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

    @model_validator(mode="after")
    def _refuse_unsafe_outside_dev(self) -> Settings:
        if self.env.is_local:
            return self
        unsafe = [name for name, on in (("RP_DEBUG", self.debug), ("RP_DEV_TOKEN_ISSUER", self.dev_token_issuer)) if on]
        if unsafe:
            raise UnsafeConfigurationError(
                f"{', '.join(unsafe)} may only be switched on when RP_ENV is dev or demo (it is {self.env})"
            )
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


def as_asyncpg_url(raw: str) -> URL:
    """Accept ``postgresql://`` (libpq style) or ``postgresql+asyncpg://`` and return the asyncpg form."""
    url = make_url(raw)
    if url.get_backend_name() != "postgresql":
        raise ValueError("only PostgreSQL is supported")
    return url.set(drivername="postgresql+asyncpg")
