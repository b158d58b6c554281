"""The metrics endpoint (``RP_METRICS_PORT``), scraped over HTTP after real calls: a dossier opened (the sources
asked), read warm and read again after the memory level was emptied (the PostgreSQL level answers), a denial, a
source that fails (retried, then unavailable), an unknown path. Every series the README lists is there, with labels
that name routes by their template and never a person, a dossier or an organisation.

The registry is the process's: other tests count in it too, so each figure here is the difference between a scrape
before the calls and one after.
"""

from __future__ import annotations

import socket
import threading
import uuid

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.app import create_app
from rp_api.settings import Settings
from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import Caller
from tests.token_factory import TokenFactory

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

SERIES = (
    "rp_http_requests_total",
    "rp_http_request_duration_seconds_bucket",
    "rp_http_request_duration_seconds_count",
    "rp_http_request_duration_seconds_sum",
    "rp_upstream_call_duration_seconds_count",
    "rp_upstream_retries_total",
    "rp_link_cache_lookups_total",
    "rp_audit_append_duration_seconds_count",
    "rp_audit_records_appended_total",
    "rp_db_pool_checked_out_connections",
    "rp_db_pool_size_connections",
    "rp_token_cache_lookups_total",
)
"""Every series of the README's table (a histogram by its three series where the test reads them)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def parse(exposition: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def scrape(port: int) -> tuple[str, Samples]:
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        answer = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text, parse(answer.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def metrics_port() -> int:
    return free_port()


@pytest.fixture
def app(settings: Settings, simulator_app: FastAPI, metrics_port: int) -> FastAPI:
    """The app with its metrics endpoint on a free port (the ``client`` fixture runs its lifespan)."""
    return create_app(
        settings.model_copy(update={"metrics_port": metrics_port}),
        upstream_transport=httpx.ASGITransport(app=simulator_app),
    )


def insured_with(population: Population, oa_number: int, *, but: tuple[str, ...] = ()) -> SimulatedPerson:
    return next(
        p
        for p in population.persons.values()
        if p.oa_number == oa_number and not p.replaced_by and not p.death_date and p.ssin not in but
    )


def metrics_servers() -> list[threading.Thread]:
    """The threads serving a metrics endpoint in this process (prometheus-client's ``serve_forever``)."""
    return [
        thread
        for thread in threading.enumerate()
        if getattr(getattr(thread, "_target", None), "__name__", None) == "serve_forever"
    ]


async def test_a_scrape_after_a_few_calls_finds_every_series_with_bounded_labels(
    app: FastAPI,
    client: httpx.AsyncClient,
    metrics_port: int,
    tokens: TokenFactory,
    population: Population,
    person: SimulatedPerson,
    simulator: SimulatorState,
    connection: AsyncConnection,
    settings: Settings,
) -> None:
    insurer = Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    elsewhere = insured_with(population, 100)
    failing = insured_with(population, 300, but=(person.ssin,))
    assert len(metrics_servers()) == 1
    _, before = await scrape(metrics_port)

    opened = await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})
    assert opened.status_code == 201, opened.text
    dossier = opened.json()["id"]
    for _ in range(2):
        assert (await insurer.get(f"/dossiers/{dossier}")).status_code == 200  # warm: from memory
    app.state.link_resolver.forget()
    assert (await insurer.get(f"/dossiers/{dossier}")).status_code == 200  # from the PostgreSQL level
    assert (await insurer.post("/dossiers", {"ssin": elsewhere.ssin})).status_code == 404  # a denial
    simulator.faults["memberData"] = "error"
    assert (await insurer.post("/dossiers", {"ssin": failing.ssin})).status_code == 503  # retried, then unavailable
    unknown = uuid.uuid4()
    assert (await client.get(f"/rp/v1/nothing/{unknown}")).status_code == 404

    exposition, after = await scrape(metrics_port)
    present = {name for name, _ in after}
    assert [series for series in SERIES if series not in present] == []

    # Calls, by route template and status, with their latency.
    dossier_route = {"method": "GET", "route": "/rp/v1/dossiers/{dossierId}"}
    assert grew(before, after, "rp_http_requests_total", **dossier_route, status="200") == 3
    assert grew(before, after, "rp_http_request_duration_seconds_count", **dossier_route) == 3
    assert grew(before, after, "rp_http_request_duration_seconds_bucket", **dossier_route, le="+Inf") == 3
    assert grew(before, after, "rp_http_request_duration_seconds_sum", **dossier_route) > 0
    opening = {"method": "POST", "route": "/rp/v1/dossiers"}
    assert [grew(before, after, "rp_http_requests_total", **opening, status=s) for s in ("201", "404", "503")] == [
        1,
        1,
        1,
    ]
    assert grew(before, after, "rp_http_requests_total", method="GET", route="unmatched", status="404") == 1

    # The authentic sources: by source and outcome, and the retry of the one that failed.
    calls = "rp_upstream_call_duration_seconds_count"
    assert grew(before, after, calls, source="nationalRegister", outcome="ok") >= 1
    assert grew(before, after, calls, source="memberData", outcome="ok") >= 1
    assert grew(before, after, calls, source="memberData", outcome="unavailable") == 1
    assert settings.upstream.retries == 1
    assert grew(before, after, "rp_upstream_retries_total", source="memberData", reason="serverError") == 1

    # The link cache, by level: misses then hits in memory; misses (the sources asked) then hits in PostgreSQL.
    lookups = "rp_link_cache_lookups_total"
    for level in ("memory", "postgresql"):
        for result in ("hit", "miss"):
            assert grew(before, after, lookups, level=level, source="memberData", result=result) >= 1, (level, result)
    assert grew(before, after, lookups, level="postgresql", source="memberData", result="hit") == 1  # after forget()

    # The audit log: one append per call about a person, each record counted.
    recorded = (await connection.execute(text("SELECT count(*) FROM audit_event"))).scalar_one()
    assert recorded >= 6
    assert grew(before, after, "rp_audit_records_appended_total") == recorded
    assert grew(before, after, "rp_audit_append_duration_seconds_count") == 6

    # The pools, and the tokens (one verified, then reused).
    for pool, size in (("api", settings.db_pool_size), ("linkCache", settings.link_cache_pool_size)):
        assert value(after, "rp_db_pool_size_connections", pool=pool) == size
        assert value(after, "rp_db_pool_checked_out_connections", pool=pool) == 0  # every one given back
    assert grew(before, after, "rp_token_cache_lookups_total", result="miss") >= 1
    assert grew(before, after, "rp_token_cache_lookups_total", result="hit") >= 5

    # Bounded labels: templates, never an id or a person.
    routes = {dict(labels).get("route") for _, labels in after} - {None}
    assert all(route == "unmatched" or route.startswith("/") for route in routes)
    assert not any(str(uuid_like) in exposition for uuid_like in (dossier, unknown))
    for personal in (person.ssin, elsewhere.ssin, failing.ssin, person.family_name):
        assert personal not in exposition
    enterprise = tokens.organisation("Solidaris").enterprise_number
    assert enterprise not in exposition


async def test_no_metrics_endpoint_unless_a_port_is_set(settings: Settings, simulator_app: FastAPI) -> None:
    assert settings.metrics_port is None
    app = create_app(settings, upstream_transport=httpx.ASGITransport(app=simulator_app))
    async with app.router.lifespan_context(app):
        assert metrics_servers() == []


async def test_the_endpoint_stops_with_the_app(settings: Settings, simulator_app: FastAPI) -> None:
    port = free_port()
    app = create_app(
        settings.model_copy(update={"metrics_port": port}), upstream_transport=httpx.ASGITransport(app=simulator_app)
    )
    async with app.router.lifespan_context(app):
        assert len(metrics_servers()) == 1
        await scrape(port)
    assert metrics_servers() == []
    with pytest.raises(httpx.ConnectError):
        await scrape(port)  # nothing listens there any more


async def test_a_metrics_port_in_use_stops_the_start(settings: Settings, simulator_app: FastAPI) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        app = create_app(
            settings.model_copy(update={"metrics_port": port}),
            upstream_transport=httpx.ASGITransport(app=simulator_app),
        )
        with pytest.raises(OSError, match="in use"):
            async with app.router.lifespan_context(app):
                pass
