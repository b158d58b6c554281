"""``create_app()``: routers, middleware, problem handlers, and a lifespan that owns the database engine and
the shared outbound HTTP client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from fastapi import FastAPI

from rp_api import __version__, cursors, docs, handlers, metrics, openapi
from rp_api.audit_checkpoints import Checkpointer
from rp_api.audit_group import AUDIT_GROUP, AuditGroupCommit
from rp_api.audit_keys import checkpoint_path, load_keyring, load_signing_keys, signing_key
from rp_api.authz.guard import build_verifier
from rp_api.authz.links import LinkResolver
from rp_api.clients import Upstreams
from rp_api.db import create_engine, create_sessionmaker
from rp_api.limits import BodyLimitMiddleware
from rp_api.logs import configure_logging
from rp_api.repositories.audit import KEYRING
from rp_api.routers import (
    audit,
    consents,
    conversations,
    decisions,
    dossiers,
    follow_up,
    health,
    include_authenticated,
    me,
    registration_forms,
    requests,
    statistics,
    work_lists,
)
from rp_api.settings import Settings
from rp_api.tracing import RequestContextMiddleware, otlp_endpoint

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from rp_api.telemetry import Tracing

DESCRIPTION = """\
API RP is the REST/JSON service of INAMI's return-to-work platform (plate-forme Réinsertion Professionnelle,
deliberation CSI/CSSS n° 26/060). Health insurers, regional employment services, external prevention services
and INAMI follow an insured person who is unfit for work but can work again.

Every answer carries `BelGov-Trace-Id`; every error is `application/problem+json` with a Belgif problem type.
"""


log = structlog.get_logger(__name__)


async def _purge_expired_links(resolver: LinkResolver, interval_s: float) -> None:
    """Person links older than their time to live are removed (access-management data: 24 hours at most)."""
    while True:
        try:
            removed = await resolver.purge_expired()
            if removed:
                log.info("link_cache_purged", rows=removed)
        except Exception as exc:  # the next round tries again; a failure must not stop the service
            log.warning("link_cache_purge_failed", error_type=type(exc).__name__)
        await asyncio.sleep(interval_s)


async def _purge_periodically(sessionmaker: Any, settings: Settings) -> None:
    """Retention, run by the service itself (every replica may; the purge is safe when they overlap)."""
    from datetime import UTC, datetime

    from rp_api.services.retention import purge

    while True:
        await asyncio.sleep(settings.purge_interval_s)
        try:
            report = await purge(
                sessionmaker,
                now=datetime.now(UTC),
                link_ttl_s=settings.link_cache_ttl_s,
                audit_months=settings.audit_retention_months,
                idempotency_days=settings.idempotency_retention_days,
            )
            log.info("retention_purge", dossiers=report.dossiers, audit_partitions=len(report.audit_partitions))
        except Exception as exc:  # the next round tries again
            log.warning("retention_purge_failed", error_type=type(exc).__name__)


def _tracing(settings: Settings, exporter: SpanExporter | None) -> Tracing | None:
    """OpenTelemetry, when an OTLP endpoint is configured (or the tests give an exporter); else None, and nothing of
    OpenTelemetry's SDK or instrumentation is even imported."""
    endpoint = otlp_endpoint(settings)
    if exporter is None and endpoint is None:
        return None
    from rp_api.telemetry import Tracing, otlp_exporter

    if exporter is not None:
        return Tracing(exporter, batch=False)
    assert endpoint is not None
    return Tracing(otlp_exporter(endpoint))


def _serve_metrics(settings: Settings) -> metrics.MetricsServer | None:
    """This process's metrics endpoint (RP_METRICS_PORT), unless it is a worker of ``rp-api serve --workers``, whose
    supervisor serves the aggregate."""
    if settings.metrics_port is None or metrics.multiprocess_directory() is not None:
        return None
    try:
        return metrics.serve(settings.host, settings.metrics_port)
    except OSError as exc:
        log.error("metrics_port_unavailable", port=settings.metrics_port, error_type=type(exc).__name__)
        raise


def create_app(
    settings: Settings | None = None,
    *,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    span_exporter: SpanExporter | None = None,
) -> FastAPI:
    """The application. ``upstream_transport`` replaces the network for outbound calls (the tests route them to
    the in-process simulator); ``span_exporter`` switches tracing on with that exporter (the tests' in-memory
    one) whatever the settings say."""
    settings = settings or Settings()
    configure_logging(settings.log_level, debug=settings.debug)
    tracing = _tracing(settings, span_exporter)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings, settings.sqlalchemy_url())
        metrics.watch_pool(engine, "api")
        app.state.engine = engine
        # The audit keys: every request session appends its records under them; the service refuses to start
        # without them outside dev, demo and test (rp_api.audit_keys).
        app.state.audit_keyring = load_keyring(settings)
        cursors.configure(app.state.audit_keyring.current)  # list pages' cursors, sealed (rp_api.cursors)
        checkpointer = Checkpointer(engine, signing_key(load_signing_keys(settings)), checkpoint_path(settings))
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.sessionmaker.configure(info={KEYRING: app.state.audit_keyring})
        setattr(app.state, AUDIT_GROUP, AuditGroupCommit())
        async with httpx.AsyncClient(
            timeout=settings.http_timeout_s, follow_redirects=False, transport=upstream_transport
        ) as http:
            app.state.http = http
            if tracing is not None:
                tracing.instrument_client(http)
            app.state.token_verifier = build_verifier(settings, http)
            app.state.registry = app.state.token_verifier.registry
            # The link cache's own pool: a request holds its session's connection while its links are fetched.
            cache_engine = create_engine(settings, settings.sqlalchemy_url(), pool_size=settings.link_cache_pool_size)
            metrics.watch_pool(cache_engine, "linkCache")
            resolver = LinkResolver(
                Upstreams.build(http, settings.upstream),
                create_sessionmaker(cache_engine),
                ttl_s=settings.link_cache_ttl_s,
                trio_domain=settings.upstream.trio_domain,
                memory_entries=settings.link_cache_memory_entries,
            )
            app.state.link_resolver = resolver
            purging = asyncio.create_task(_purge_expired_links(resolver, settings.link_cache_purge_interval_s))
            retention = asyncio.create_task(_purge_periodically(app.state.sessionmaker, settings))
            checkpoints = asyncio.create_task(checkpointer.run(settings.audit_checkpoint_interval_s))
            metrics_server = None
            try:
                metrics_server = _serve_metrics(settings)
                if tracing is not None:
                    tracing.instrument_database()
                yield
            finally:
                purging.cancel()
                retention.cancel()
                checkpoints.cancel()
                await checkpointer.final()
                await cache_engine.dispose()
                await engine.dispose()
                if tracing is not None:
                    await tracing.close()
                if metrics_server is not None:
                    metrics_server.close()
                metrics.this_worker_ends()

    app = FastAPI(
        title="API RP",
        version=__version__,
        summary="Return-to-work platform of INAMI (plate-forme Réinsertion Professionnelle)",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        debug=False,
        # FastAPI's own OpenTelemetry stays off, whatever the environment (FASTAPI_OTEL_AUTO_CONFIGURE, a global
        # provider): its logs carry validation failures with their input, and its spans would bypass the redaction
        # of ours (rp_api.telemetry). Off, it costs no provider look-up per call either.
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    app.state.settings = settings
    app.state.tracing = tracing
    handlers.install(app)
    app.include_router(health.router)
    include_authenticated(
        app,
        dossiers.router,
        registration_forms.router,
        requests.router,
        work_lists.router,
        decisions.router,
        follow_up.router,
        conversations.router,
        consents.router,
        statistics.router,
        open_to_auditors=(me.router, audit.router),
    )
    docs.install(app, openapi_url="/openapi.json")
    openapi.install(app)
    # Added last = outermost: the trace id wraps everything, including the body limit's 413.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, traced=tracing is not None)
    if tracing is not None:
        tracing.instrument_app(app)  # outermost: its server span wraps everything, the trace id's middleware too
    return app
