"""What API RP counts and times, for Prometheus (prometheus-client), served on a port of its own
(``RP_METRICS_PORT``; unset: no endpoint).

Every label is bounded: an HTTP method (an unknown one is ``other``), a route *template*
(``/rp/v1/dossiers/{dossierId}``, never an id; ``unmatched`` when no route answered), a status, an authentic source,
a cache level, a pool name, an outcome. No SSIN, no resource id, no enterprise number ever becomes a label.

One process (``rp-api serve`` with one worker, ``rp-api demo``): the app's lifespan serves this process's registry.
Several (``rp-api serve --workers N``): the command makes a fresh ``PROMETHEUS_MULTIPROC_DIR`` before it starts the
workers, each worker writes its values there (prometheus-client's multi-process mode, chosen when the library is
first imported, hence the environment variable), the supervisor serves their aggregate on the one metrics port
(:func:`serve_aggregate`), and removes the directory when it stops. Counters and histograms are summed over every
worker that ever ran (those of a replaced worker included: a counter never goes down); the pool gauges over the
workers alive (``livesum``: a worker that ends is forgotten, :func:`worker_gone`).

The hot path takes a labelled child from a cache (``functools.cache``) rather than through ``labels()``, whose
argument checks and lock cost about as much as the increment itself.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.metrics import disable_created_metrics

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's switch to multi-process mode: where each process writes its values."""

# No ``*_created`` series: a timestamp per series, of no use to a dashboard, twice the series to scrape.
disable_created_metrics()  # type: ignore[no-untyped-call]

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_UPSTREAM = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_AUDIT = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)

REQUESTS = Counter(
    "rp_http_requests", "API calls answered, by method, route template and HTTP status.", ["method", "route", "status"]
)
REQUEST_DURATION = Histogram(
    "rp_http_request_duration_seconds",
    "Time from a call's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=_LATENCY,
)
UPSTREAM_DURATION = Histogram(
    "rp_upstream_call_duration_seconds",
    "Calls to an authentic source, by source and outcome (ok, absent, unavailable, badResponse, cancelled): the "
    "whole call, retries and their backoff included.",
    ["source", "outcome"],
    buckets=_UPSTREAM,
)
UPSTREAM_RETRIES = Counter(
    "rp_upstream_retries",
    "Attempts of an authentic-source call made again, by source and what failed (timeout, network, serverError, "
    "tooManyRequests).",
    ["source", "reason"],
)
LINK_CACHE_LOOKUPS = Counter(
    "rp_link_cache_lookups",
    "Look-ups of the person-link cache, by level (memory, postgresql), source and result (hit, miss); a miss of "
    "the postgresql level is a call to the source.",
    ["level", "source", "result"],
)
AUDIT_APPEND_DURATION = Histogram(
    "rp_audit_append_duration_seconds",
    "Time of one append statement to the keyed audit log (one round trip): a call's records, or those of the "
    "read-only calls of one moment appended together.",
    buckets=_AUDIT,
)
AUDIT_RECORDS = Counter("rp_audit_records_appended", "Audit records appended (one per person per call).")
POOL_CHECKED_OUT = Gauge(
    "rp_db_pool_checked_out_connections",
    "Database connections in use, by pool (api: the requests' sessions; linkCache: the link cache's own).",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "rp_db_pool_size_connections",
    "Database connections each pool keeps (RP_DB_POOL_SIZE, RP_LINK_CACHE_POOL_SIZE; overflow comes on top).",
    ["pool"],
    multiprocess_mode="livesum",
)
TOKEN_CACHE_LOOKUPS = Counter(
    "rp_token_cache_lookups",
    "Bearer tokens looked up among those already verified, by result (hit, miss: a signature check).",
    ["result"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@functools.cache
def _request(method: str, route: str, status: int) -> tuple[Any, Any]:
    return REQUESTS.labels(method, route, str(status)), REQUEST_DURATION.labels(method, route)


def observe_request(method: str | None, route: str, status: int, seconds: float) -> None:
    """One API call answered (``route``: its template, or ``unmatched``)."""
    counter, histogram = _request(method if method in _METHODS else "other", route, status)
    counter.inc()
    histogram.observe(seconds)


@functools.cache
def _upstream(source: str, outcome: str) -> Any:
    return UPSTREAM_DURATION.labels(source, outcome)


def observe_upstream_call(source: str, outcome: str, seconds: float) -> None:
    _upstream(source, outcome).observe(seconds)


@functools.cache
def _retry(source: str, reason: str) -> Any:
    return UPSTREAM_RETRIES.labels(source, reason)


def count_upstream_retry(source: str, reason: str) -> None:
    _retry(source, reason).inc()


@functools.cache
def _link_cache(level: str, source: str, hit: bool) -> Any:
    return LINK_CACHE_LOOKUPS.labels(level, source, "hit" if hit else "miss")


def count_link_cache(level: str, source: str, *, hit: bool) -> None:
    """A look-up of the link cache's ``level`` (``memory`` or ``postgresql``) for one source."""
    _link_cache(level, source, hit).inc()


def observe_audit_append(records: int, seconds: float) -> None:
    AUDIT_APPEND_DURATION.observe(seconds)
    AUDIT_RECORDS.inc(records)


_TOKEN_HIT = TOKEN_CACHE_LOOKUPS.labels("hit")
_TOKEN_MISS = TOKEN_CACHE_LOOKUPS.labels("miss")


def count_token_cache(*, hit: bool) -> None:
    (_TOKEN_HIT if hit else _TOKEN_MISS).inc()


def watch_pool(engine: Any, name: str) -> None:
    """Count the connections ``engine``'s pool lends (``name``: ``api`` or ``linkCache``) and publish its size.

    Counted on the pool's events rather than read from it: a pool that the engine renews (``dispose()``) still
    sees the connections of the old one come back, and each is counted out once."""
    from sqlalchemy import event

    sync_engine = engine.sync_engine
    checked_out = POOL_CHECKED_OUT.labels(name)
    size = getattr(sync_engine.pool, "size", None)
    POOL_SIZE.labels(name).set(size() if callable(size) else 0)

    def lent(*_: Any) -> None:
        checked_out.inc()

    def back(*_: Any) -> None:
        checked_out.dec()

    event.listen(sync_engine, "checkout", lent)
    event.listen(sync_engine, "checkin", back)
    event.listen(sync_engine, "detach", back)  # a detached connection leaves the pool without coming back


# --- exposition --------------------------------------------------------------------------------------------------


def multiprocess_directory() -> str | None:
    """The directory of multi-process mode, when this process runs in it (a worker of ``rp-api serve --workers``)."""
    return os.environ.get(MULTIPROCESS_DIRECTORY) or None


@dataclass
class MetricsServer:
    """The metrics endpoint: an HTTP server in a daemon thread, answering every path (``/metrics``) with the
    text exposition format."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(host: str, port: int) -> MetricsServer:
    """Serve this process's metrics (the default registry: ours, and the process's CPU, memory and garbage
    collector) on ``host:port``. Raises OSError when the port cannot be bound."""
    server, thread = start_http_server(port, addr=host, registry=REGISTRY)
    return MetricsServer(server, thread)


def serve_aggregate(host: str, port: int, directory: Path) -> MetricsServer:
    """Serve the sum of what every worker wrote in ``directory`` (the supervisor of ``rp-api serve --workers``)."""
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(server, thread)


@contextlib.contextmanager
def workers_directory(parent: str | None = None) -> Iterator[Path]:
    """A new, empty directory for the workers' values (in ``parent``, else the temporary directory), named by
    ``PROMETHEUS_MULTIPROC_DIR`` in this process's environment, which the workers inherit, until the block ends;
    then the variable is restored and the directory removed (a next run starts from nothing, as it must)."""
    directory = Path(tempfile.mkdtemp(prefix="rp-api-metrics-", dir=parent))
    before = os.environ.get(MULTIPROCESS_DIRECTORY)
    os.environ[MULTIPROCESS_DIRECTORY] = str(directory)
    try:
        yield directory
    finally:
        if before is None:
            os.environ.pop(MULTIPROCESS_DIRECTORY, None)
        else:
            os.environ[MULTIPROCESS_DIRECTORY] = before
        shutil.rmtree(directory, ignore_errors=True)


def worker_gone(directory: Path, pid: int) -> None:
    """A worker ended (or was replaced): its gauges leave the aggregate; its counters stay in it."""
    prometheus_multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def this_worker_ends() -> None:
    """Called by a worker of multi-process mode as it stops (the supervisor also does it for one that dies)."""
    directory = multiprocess_directory()
    if directory is not None:
        worker_gone(Path(directory), os.getpid())
